// The login page (served with 401 when the server has an API key and none came with the request).
import { forgetKey, storedKey } from './api.js';

const url = new URL(location.href);
const tried = url.searchParams.get('key');
if (tried !== null) {
  // This key was refused: say so, and keep it out of the address bar and history.
  forgetKey();
  history.replaceState(null, '', '/');
  const error = document.getElementById('login-error');
  if (error) error.textContent = 'That key is not the server\'s HERALD_API_KEY.';
} else {
  // A reload of the dashboard in this tab: the key is still in sessionStorage.
  const key = storedKey();
  if (key !== undefined) location.replace(`/?key=${encodeURIComponent(key)}`);
}
