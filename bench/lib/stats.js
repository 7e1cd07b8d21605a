/** Small statistics and markdown helpers shared by the benchmarks. */

export function sorted(xs) {
  return [...xs].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100) of a sample. */
export function percentile(xs, p) {
  const s = sorted(xs);
  if (s.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export function median(xs) {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const ms = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
export const ratio = (x) => `${x.toFixed(2)}×`;
export const mib = (bytes) => (bytes / (1024 * 1024)).toFixed(2);

/** A markdown table from a header row and data rows (cells are stringified). */
export function table(header, rows) {
  const line = (cells) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
