/** The runner contract shared by the peer runners: [--dir HOST::GUEST]… [--env K=V]… [--argv0 NAME] MODULE ARGS… */
import { basename } from 'node:path';

export function parseRunnerArgs(argv) {
  const dirs = [];
  const env = {};
  let argv0;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') {
      const [host, guest] = argv[++i].split('::');
      dirs.push({ host, guest: guest ?? host });
    } else if (a === '--env') {
      const kv = argv[++i];
      const eq = kv.indexOf('=');
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--argv0') {
      argv0 = argv[++i];
    } else {
      break;
    }
  }
  const module = argv[i];
  if (module === undefined) {
    process.stderr.write('usage: RUNNER [--dir HOST::GUEST]… [--env K=V]… [--argv0 NAME] MODULE ARGS…\n');
    process.exit(2);
  }
  return { dirs, env, module, args: [argv0 ?? basename(module), ...argv.slice(i + 1)] };
}
