import { EventEmitter } from 'node:events';
import { WmigError } from '../errors.js';

/**
 * The states of a wmig process. A process starts `created`, becomes `running` (fresh start) or
 * `thawing` (from a snapshot), and ends `exited`, `trapped` or `frozen` (snapshot written, guest gone).
 * A freeze that leaves the guest running goes `running → freezing → running`.
 */
export type ProcessState =
  | 'created'
  | 'running'
  | 'freezing'
  | 'frozen'
  | 'thawing'
  | 'exited'
  | 'trapped';

const TRANSITIONS: Readonly<Record<ProcessState, readonly ProcessState[]>> = {
  created: ['running', 'thawing', 'trapped'],
  thawing: ['running', 'trapped'],
  running: ['freezing', 'exited', 'trapped'],
  // A failed or leave-running freeze goes back to running; the guest may also exit while a
  // request is pending if it makes no further WASI call.
  freezing: ['frozen', 'running', 'exited', 'trapped'],
  frozen: [],
  exited: [],
  trapped: [],
};

export function isFinal(state: ProcessState): boolean {
  return TRANSITIONS[state].length === 0;
}

/** The one place that decides which state changes are legal; emits 'change' (to, from). */
export class Lifecycle extends EventEmitter {
  #state: ProcessState = 'created';

  get state(): ProcessState {
    return this.#state;
  }

  transition(to: ProcessState): void {
    const from = this.#state;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) {
      throw new WmigError('INTERNAL', `illegal process state change ${from} → ${to}`);
    }
    this.#state = to;
    this.emit('change', to, from);
  }
}
