/** The fixture directory the conformance programs expect at /data (see examples/conformance/conf.h). */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function makeFixture(dir: string): void {
  writeFileSync(join(dir, 'hello.txt'), 'hello world\n');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'a'), 'A');
  writeFileSync(join(dir, 'sub', 'b'), '');
  writeFileSync(join(dir, 'sub', 'c'), '');
  mkdirSync(join(dir, 'empty'));
  symlinkSync('hello.txt', join(dir, 'link-hello'));
  symlinkSync('sub', join(dir, 'link-sub'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  symlinkSync('../outside', join(dir, 'escape'));
}
