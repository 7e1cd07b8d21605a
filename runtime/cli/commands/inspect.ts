import type { Command } from 'commander';
import { inspectSnapshot, type SnapshotDescription as Description } from '../../index.js';
import { printable } from '../say.js';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const row = (label: string, value: string) => `${label.padEnd(15)} ${printable(value)}`;

function summary(d: Description): string {
  const lines = [
    row('format', `v${d.formatVersion}, ${d.fileBytes} bytes (${kib(d.fileBytes)})`),
    row('module', `${d.module.name} sha256:${d.module.digest} (${d.module.embedded ? `embedded, ${d.module.bytes} bytes` : 'not embedded'})`),
    row('memory', `${d.pages.total} pages (${kib(d.memoryBytes)}): ${d.pages.present} present, ${d.pages.elided} all-zero elided`),
    row('stack', `${d.stackBytes} bytes unwound, resumes in ${d.pendingImport}`),
    row('globals', d.globals.map((g) => `${g.name}=${g.value}`).join(' ')),
  ];
  for (const [key, value] of Object.entries(d.meta)) lines.push(row(key, String(value)));
  lines.push(...describeHost(d.host));
  lines.push(row('files', `${d.files.length} blobs, ${d.files.reduce((n, f) => n + f.bytes, 0)} bytes`));
  lines.push(row('sections', d.sections.map((s) => `${s.tag.trim()} ${s.length}`).join(', ')));
  return lines.join('\n') + '\n';
}

/** The WASI part, read defensively: it is the host's JSON and its shape may grow. */
function describeHost(host: unknown): string[] {
  if (typeof host !== 'object' || host === null) return [];
  const state = host as { args?: string[]; env?: [string, string][]; mounts?: unknown[]; handles?: unknown[] };
  const lines: string[] = [];
  if (state.args) lines.push(row('args', `${JSON.stringify(state.args)}`));
  if (state.env) lines.push(row('env', `${state.env.length} variables`));
  for (const mount of state.mounts ?? []) lines.push(row('mount', `${JSON.stringify(mount)}`));
  for (const handle of state.handles ?? []) lines.push(row('handle', `${JSON.stringify(handle)}`));
  return lines;
}

export function registerInspect(program: Command, exit: (code: number) => void): void {
  program
    .command('inspect')
    .description('describe a snapshot (checks it fully first)')
    .argument('<snapshot>', 'a snapshot file')
    .option('--json', 'print the description as JSON')
    .action((file: string, flags: { json?: boolean }) => {
      const description = inspectSnapshot(file);
      const text = flags.json
        ? JSON.stringify(description, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n'
        : summary(description);
      process.stdout.write(text);
      exit(0);
    });
}
