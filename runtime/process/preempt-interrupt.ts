/**
 * Gets a freeze request to a guest that computes without making calls. Its preemption checks read
 * a flag global only the guest's own thread can set, and that thread is busy in wasm. V8 does stop
 * running code at interrupt checks (loop headers, function entries) for requested interrupts, and
 * Node's inspector uses those to dispatch messages to a busy worker: so the main thread attaches an
 * in-process inspector session to its guests' workers and has each such worker evaluate the function
 * that sets the flag (messages.ts PREEMPT_REQUEST). The session is offered every worker of the
 * process; it detaches at once from those that are not wmig's (a library user's own). Only the
 * Runtime domain's evaluate is used: no debugger is enabled, so the worker's code is compiled and
 * run as without a session.
 *
 * Without an inspector (a Node.js built without one), interrupts are not sent: the request is then
 * honoured at the guest's next WASI call, as without --preempt.
 */
import type { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { PREEMPT_REQUEST } from './messages.js';

const EXPRESSION = `globalThis[Symbol.for(${JSON.stringify(PREEMPT_REQUEST)})]?.()`;

/** The name of the workers that run guests; their inspector title ends with it. */
export const GUEST_WORKER_NAME = 'wmig guest';

interface Attached {
  session: Session;
  /** Inspector session ids of attached workers, by thread id. */
  workers: Map<number, string>;
}

let attached: Attached | null | undefined;
let messageId = 0;

/** The process's session, attached to every guest's worker (created on first use); null without an inspector. */
function inspectorSession(): Attached | null {
  if (attached !== undefined) return attached;
  try {
    // Loaded here: a Node.js built without an inspector throws when the module is loaded.
    const { Session } = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
    const session = new Session();
    session.connect();
    const workers = new Map<number, string>();
    session.on('NodeWorker.attachedToWorker', ({ params }) => {
      // The title is "[worker THREAD_ID] NAME"; workerInfo.workerId is the inspector's own count.
      const { title } = params.workerInfo;
      const thread = /^\[worker (\d+)\]/.exec(title)?.[1];
      if (thread !== undefined && title.endsWith(GUEST_WORKER_NAME)) workers.set(Number(thread), params.sessionId);
      else session.post('NodeWorker.detach', { sessionId: params.sessionId });
    });
    session.on('NodeWorker.detachedFromWorker', ({ params }) => {
      for (const [thread, id] of workers) if (id === params.sessionId) workers.delete(thread);
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    attached = { session, workers };
  } catch {
    attached = null;
  }
  return attached;
}

/** Attaches to workers now (their attachment is asynchronous), so that the first interrupt can reach them. */
export function prepareInterrupts(): void {
  inspectorSession();
}

/**
 * Has the worker set its guest's preemption flag at its next interrupt check. Does nothing without
 * an inspector, or before the worker is attached (the caller sends again while its request waits).
 */
export function interruptWorker(worker: Worker): void {
  const inspector = inspectorSession();
  const sessionId = inspector?.workers.get(worker.threadId);
  if (!inspector || sessionId === undefined) return;
  const message = JSON.stringify({ id: ++messageId, method: 'Runtime.evaluate', params: { expression: EXPRESSION } });
  inspector.session.post('NodeWorker.sendMessageToWorker', { sessionId, message });
}
