/**
 * Every failure wmig reports to a user carries one of these codes, so scripts can tell
 * them apart. They are the CLI's exit statuses; library users read `WmigError.code`.
 * Guest programs choose their own exit codes, so these can only be distinct from each other.
 */
export const ExitCode = {
  /** The guest was frozen and the snapshot written; `wmig thaw` resumes it. */
  FROZEN: 75,
  /** Bad flag, missing argument, malformed `--dir` / `--env`. */
  USAGE: 64,
  /** The snapshot is damaged: bad magic, bad checksum, truncated, malformed section. */
  CORRUPT_SNAPSHOT: 65,
  /** An input file (module, snapshot, host directory) does not exist or cannot be read. */
  NO_INPUT: 66,
  /** The snapshot was taken from a different module than the one offered for thaw. */
  MODULE_MISMATCH: 67,
  /** The snapshot's format version is not supported: newer than this wmig, or v2 with setjmp stacks. */
  UNSUPPORTED_VERSION: 68,
  /** A mount or an open handle of the snapshot cannot be re-bound on this machine. */
  REBIND_FAILED: 69,
  /** A bug in wmig itself (e.g. an import called while unwinding). */
  INTERNAL: 70,
  /** A `--listen` address cannot be bound (in use, no permission, not a local address). */
  CANT_LISTEN: 71,
  /** The snapshot file (or another output) could not be written. */
  CANT_WRITE: 73,
  /** The module is not a usable WASI command (not wasm, no _start, unsupported feature). */
  BAD_MODULE: 76,
  /** `wmig freeze PID`: no wmig process with a control socket at that PID. */
  NO_SUCH_PROCESS: 77,
  /** The process cannot be frozen now (e.g. it has open socket connections); it keeps running. */
  BUSY: 78,
  /** The guest trapped (unreachable, out-of-bounds access, stack overflow...). */
  TRAP: 134,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export class WmigError extends Error {
  readonly kind: ExitCodeName;
  readonly code: number;
  constructor(kind: ExitCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WmigError';
    this.kind = kind;
    this.code = ExitCode[kind];
  }
}
