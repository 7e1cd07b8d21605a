/** tinybench wrapper for the same-run baselines: a fixed number of samples, p50/p99 in ms. */
import { Bench } from 'tinybench';

export async function tiny(name, fn, iterations, opts = {}) {
  const bench = new Bench({ time: 0, iterations, warmupIterations: 2, warmupTime: 0, throws: true, ...opts });
  bench.add(name, fn);
  await bench.run();
  const { latency } = bench.tasks[0].result;
  return { p50: latency.p50, p99: latency.p99, n: latency.samples.length };
}
