/** wmig's own messages go to stderr, prefixed so they are told apart from the guest's. */
export function say(message: string): void {
  process.stderr.write(`wmig: ${message}\n`);
}
