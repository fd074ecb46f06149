// The dashboard page: counters and charts from /stats, the tap and the tester over WebSockets.
import { Api, forgetKey, takeKey } from './api.js';
import { StatsView } from './stats-view.js';
import { Tap } from './tap.js';
import { Tester } from './tester.js';

const api = new Api(takeKey());
api.onUnauthorized = () => {
  // The key changed on the server: back to the login page.
  forgetKey();
  location.replace('/');
};
const tap = new Tap(api);
const tester = new Tester(api);
const stats = new StatsView(api, (topic) => void tap.tap(topic));
stats.start();

// Registrations made by this page go with it.
addEventListener('pagehide', () => {
  stats.stop();
  tap.dispose();
  tester.dispose();
});
