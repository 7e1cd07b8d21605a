import { readFileSync } from 'node:fs';
import { WmigError } from '../index.js';

export function readInputFileForCli(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new WmigError('NO_INPUT', `${what} ${path}: ${code === 'ENOENT' ? 'not found' : (error as Error).message}`);
  }
}
