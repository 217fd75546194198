/**
 * In-process stamps for the hop-chain benchmark. The bench, the raw BullMQ workers and the bench
 * agents' handlers all run in one process, so they share one monotonic clock: each handler records
 * `performance.now()` when it starts, keyed by chain (raw) or session id (agentbus).
 *
 * The stamps live on globalThis so that an agent's worker.ts, imported by the runtime's loader,
 * sees the same recorder as the bench even if a loader ever gave it a second module instance.
 */
const KEY = Symbol.for("agentbus.bench.probe");

export interface Probe {
  /** chain id → start time (ms, performance.now) of hop 0 (publish/add) … hop 4. */
  stamps: Map<string, number[]>;
}

function probe(): Probe {
  const g = globalThis as unknown as Record<symbol, Probe | undefined>;
  let p = g[KEY];
  if (!p) {
    p = { stamps: new Map() };
    g[KEY] = p;
  }
  return p;
}

/** Record that `hop` of `chain` started now (0 = the message was about to be published). */
export function stamp(chain: string, hop: number, at = performance.now()): void {
  const { stamps } = probe();
  let row = stamps.get(chain);
  if (!row) {
    row = [];
    stamps.set(chain, row);
  }
  row[hop] = at;
}

/** Take every recorded chain and clear the recorder. */
export function drainStamps(): Map<string, number[]> {
  const p = probe();
  const out = p.stamps;
  p.stamps = new Map();
  return out;
}
