// Builds the dashboard into dist/web/: type-checks web/, bundles web/src/{main,login}.ts (with
// the client SDK) into app.js and login.js with esbuild, and copies the HTML and CSS. No CDN:
// the server serves these files itself (src/http/dashboard.ts). Part of `npm run build`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = `${root}dist/web/`;

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', `${root}web/tsconfig.json`], { stdio: 'inherit' });
} catch {
  console.error('build-web: web/ does not type-check (errors above)');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: `${root}web/src/main.ts`, login: `${root}web/src/login.ts` },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // The SDK loads `ws` only where there is no global WebSocket; a browser always has one.
  external: ['ws'],
  minify: true,
  sourcemap: 'linked',
  outdir: out,
  logLevel: 'warning',
});
for (const f of ['index.html', 'login.html', 'style.css', 'favicon.svg']) copyFileSync(`${root}web/${f}`, `${out}${f}`);
console.log('dashboard built: dist/web/');
