/** Small statistics helpers for the benchmark. */

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface HopSamples {
  /** publish/add of hop 0 → start of the first worker. */
  entry: number[];
  /** start of worker k → start of worker k+1, for k = 1..3. */
  hops: number[];
  /** publish of hop 0 → start of the last worker. */
  chain: number[];
}

/** Turn per-chain stamps (hop 0..4) into latency samples in ms; incomplete chains are skipped. */
export function hopSamples(stamps: Map<string, number[]>, hopCount: number): HopSamples {
  const out: HopSamples = { entry: [], hops: [], chain: [] };
  for (const row of stamps.values()) {
    if (row.length !== hopCount + 1 || row.some((v) => v === undefined)) continue;
    out.entry.push((row[1] as number) - (row[0] as number));
    for (let k = 1; k < hopCount; k++) out.hops.push((row[k + 1] as number) - (row[k] as number));
    out.chain.push((row[hopCount] as number) - (row[0] as number));
  }
  return out;
}

/** Resolves after `count` calls of the returned tick(); rejects after `timeoutMs` without progress. */
export function countdown(count: number, timeoutMs: number, what: string): { tick: () => void; cancel: () => void; done: Promise<number> } {
  let left = count;
  let resolveDone: (at: number) => void = () => undefined;
  let rejectDone: (err: Error) => void = () => undefined;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => rejectDone(new Error(`${what}: ${left} of ${count} still missing after ${timeoutMs} ms without progress`)), timeoutMs);
  };
  arm();
  if (count === 0) {
    clearTimeout(timer);
    resolveDone(performance.now());
  }
  return {
    done,
    cancel: () => clearTimeout(timer),
    tick: () => {
      left -= 1;
      if (left === 0) {
        clearTimeout(timer);
        resolveDone(performance.now());
      } else if (left > 0 && left % 64 === 0) arm();
    },
  };
}
