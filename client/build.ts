// Bundles the SDK for browsers: one ESM file, `ws` left out (browsers have WebSocket).
// Part of `npm run build` (dist/client/herald.browser.js, exported as herald/browser);
// alone: node dist/client/build.js [outfile]
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The default bundle path: dist/client/herald.browser.js. */
export const BROWSER_BUNDLE = `${root}dist/client/herald.browser.js`;

/** Builds the browser bundle from client/index.ts; returns the output path. */
export async function buildBrowserBundle(outfile: string = BROWSER_BUNDLE): Promise<string> {
  await build({
    entryPoints: [`${root}client/index.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['ws'],
    sourcemap: true,
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildBrowserBundle(process.argv[2]);
  console.log(`wrote ${out}`);
}
