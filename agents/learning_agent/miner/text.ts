/** Small formatting helpers for rule text. */

export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export function fmtMs(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

export function mean(sum: number, n: number): number {
  return n > 0 ? sum / n : 0;
}

/** Sample variance from the sum and the sum of squares. */
export function variance(sum: number, sumSq: number, n: number): number {
  if (n < 2) return 0;
  const m = sum / n;
  return Math.max(0, (sumSq - n * m * m) / (n - 1));
}

export function quote(text: string): string {
  return `'${text.replace(/'/g, "’")}'`;
}
