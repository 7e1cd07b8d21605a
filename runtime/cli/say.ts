/** wmig's own messages go to stderr, prefixed so they are told apart from the guest's. */
export function say(message: string): void {
  process.stderr.write(`wmig: ${message.split('\n').map(printable).join('\n')}\n`);
}

/**
 * Control characters escaped (ESC becomes "\\u001b", a newline "\\u000a"): messages and `wmig
 * inspect` show strings from snapshots and modules, which must not move the cursor, overwrite or
 * add lines, or retitle the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
