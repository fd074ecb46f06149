#!/usr/bin/env -S node --max-semi-space-size=4
// The CLI entry: the compiled TypeScript lives in dist/ (npm run build).
// --max-semi-space-size=4 (MiB): V8's young generation otherwise grows to 16 MiB per semi-space
// while thousands of sockets connect and stays there; 4 measured the least memory per idle
// connection at no cost in throughput (BENCHMARKS.md, "Young generation"). `node bin/herald.js`
// skips this line: pass the flag yourself, or set NODE_OPTIONS.
import('../dist/src/cli/index.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
    console.error('herald: not built yet; run `npm run build` first (npm start does it for you).');
    process.exit(1);
  }
  throw err;
});
