/**
 * The control socket through which `wmig freeze PID` reaches a running `wmig run` / `wmig thaw`:
 * a Unix socket at $XDG_RUNTIME_DIR/wmig/<pid>.sock (or <tmpdir>/wmig-<uid>/<pid>.sock), one JSON
 * request and one JSON reply per connection.
 */
import { lstatSync, mkdirSync, rmSync } from 'node:fs';
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

/** A request is one line; a client that sends more without a newline is cut off. */
const MAX_REQUEST_CHARS = 64 * 1024;

/** The request on one line, checked: a malformed one is answered with an error, the process runs on. */
function parseControlRequest(line: string): ControlRequest {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    throw new WmigError('USAGE', 'control request is not JSON');
  }
  const r = x as Partial<Record<keyof ControlRequest, unknown>>;
  const ok = typeof x === 'object' && x !== null && r.op === 'freeze' && typeof r.leaveRunning === 'boolean'
    && (r.snapshot === undefined || (typeof r.snapshot === 'string' && r.snapshot !== ''))
    && (r.drainMs === undefined || (typeof r.drainMs === 'number' && Number.isFinite(r.drainMs) && r.drainMs >= 0));
  if (!ok) throw new WmigError('USAGE', 'control request is not {"op":"freeze","leaveRunning":bool,"snapshot"?:path,"drainMs"?:ms}');
  return x as ControlRequest;
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
  makePrivateDir(join(path, '..'));
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    const reply = (r: ControlReply) => socket.end(`${JSON.stringify(r)}\n`);
    const failure = (error: Error): ControlReply => ({
      ok: false,
      kind: error instanceof WmigError ? error.kind : 'INTERNAL',
      message: error.message,
    });
    const onData = (chunk: string) => {
      input += chunk;
      const newline = input.indexOf('\n');
      if (newline < 0 && input.length <= MAX_REQUEST_CHARS) return;
      socket.off('data', onData); // one request per connection
      let request: ControlRequest;
      try {
        if (newline < 0) throw new WmigError('USAGE', `control request longer than ${MAX_REQUEST_CHARS} characters`);
        request = parseControlRequest(input.slice(0, newline));
      } catch (error) {
        reply(failure(error as Error));
        return;
      }
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
        .catch(failure)
        .then(reply);
    };
    socket.on('data', onData);
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
  let started: WmigProcess | undefined;
  void process_.then((proc) => (started = proc)).catch(() => {});
  void process_.then((proc) => proc.result).finally(cleanup).catch(() => {});
  process.once('exit', () => rmSync(path, { force: true }));
  // A signal's default action ends the process with no 'exit' event, leaving the socket behind:
  // remove it (and write out the guest's buffered output), then die of the signal as before (the
  // listener is gone by then).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      started?.flushOutput();
      rmSync(path, { force: true });
      process.kill(process.pid, signal);
    });
  }
  return server;
}

/**
 * Whoever can reach the socket can freeze the process and have it write a snapshot anywhere it may
 * write: the directory must be this user's alone. (mkdir does not change an existing one, which
 * someone else may have made first, e.g. in a shared /tmp.)
 */
function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) {
    throw new WmigError('CANT_WRITE', `control socket directory ${dir} is not private to this user (it must be a directory of uid ${process.getuid!()} with mode 0700); remove it, or set XDG_RUNTIME_DIR`);
  }
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
