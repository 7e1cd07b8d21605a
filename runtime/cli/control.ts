/**
 * The control socket through which `wmig freeze PID` reaches a running `wmig run` / `wmig thaw`:
 * a Unix socket at $XDG_RUNTIME_DIR/wmig/<pid>.sock (or <tmpdir>/wmig-<uid>/<pid>.sock), one JSON
 * request and one JSON reply per connection.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { WmigError, type ExitCodeName, type FreezeReport, type WmigProcess } from '../index.js';

export interface ControlRequest {
  op: 'freeze';
  /** Absolute path; when absent the process uses its own default. */
  snapshot?: string;
  leaveRunning: boolean;
  /** FreezeOptions.drainMs. */
  drainMs?: number;
}

export type ControlReply =
  | { ok: true; path: string; byteLength: number; callNumber: number; leftRunning: boolean }
  | { ok: false; kind: ExitCodeName; message: string };

export function controlSocketPath(pid: number): string {
  const base = process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'wmig') : join(tmpdir(), `wmig-${userInfo().uid}`);
  return join(base, `${pid}.sock`);
}

/**
 * Serves freeze requests for the process until it ends. Resolves once the socket is listening, so
 * callers open it before the guest starts: a `wmig freeze PID` sent as soon as the guest shows signs
 * of life must find it. Requests that arrive before the process exists wait for it.
 */
export async function serveControl(process_: Promise<WmigProcess>, defaultSnapshot: string): Promise<Server> {
  const path = controlSocketPath(process.pid);
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      input += chunk;
      if (!input.includes('\n')) return;
      const request = JSON.parse(input) as ControlRequest;
      const snapshot = request.snapshot ?? defaultSnapshot;
      process_
        .then((proc) => proc.freeze({ path: snapshot, leaveRunning: request.leaveRunning, drainMs: request.drainMs, reason: 'wmig freeze' }))
        .then((report: FreezeReport): ControlReply => ({
          ok: true,
          path: snapshot,
          byteLength: report.byteLength,
          callNumber: report.callNumber,
          leftRunning: report.leftRunning,
        }))
        .catch((error: Error): ControlReply => ({
          ok: false,
          kind: error instanceof WmigError ? error.kind : 'INTERNAL',
          message: error.message,
        }))
        .then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const cleanup = () => {
    server.close();
    rmSync(path, { force: true });
  };
  void process_.then((proc) => proc.result).finally(cleanup).catch(() => {});
  process.once('exit', () => rmSync(path, { force: true }));
  return server;
}

/** Sends one request to the wmig process `pid` and waits for its reply. */
export function requestControl(pid: number, request: ControlRequest): Promise<ControlReply> {
  const path = controlSocketPath(pid);
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let output = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk) => (output += chunk));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(output) as ControlReply);
      } catch {
        reject(new WmigError('INTERNAL', `malformed reply from process ${pid}`));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new WmigError('NO_SUCH_PROCESS', `no running wmig process ${pid} (no control socket at ${path})`));
      } else reject(new WmigError('INTERNAL', `control socket ${path}: ${error.message}`));
    });
  });
}
