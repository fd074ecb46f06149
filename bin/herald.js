#!/usr/bin/env node
// The CLI entry: the compiled TypeScript lives in dist/ (npm run build).
// `herald serve` is best run as `node --max-semi-space-size=8 bin/herald.js serve`, as npm start
// does: see docs/operations.md. (Not on this line: `env -S` is missing from BusyBox images.)
import('../dist/src/cli/index.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
    console.error('herald: not built yet; run `npm run build` first (npm start does it for you).');
    process.exit(1);
  }
  throw err;
});
