import { existsSync, readFileSync } from 'node:fs';

/** wmig's version, from package.json (recorded in every snapshot). Found upward from this file so it
 *  works both from the TypeScript sources and from dist/. */
function readVersion(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    const candidate = new URL('package.json', dir);
    if (existsSync(candidate)) return (JSON.parse(readFileSync(candidate, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

export const VERSION: string = readVersion();
