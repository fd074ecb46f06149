// Herald's version, from package.json (one place to bump it), for --version and /openapi.json.
import { readFileSync } from 'node:fs';

export const HERALD_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
