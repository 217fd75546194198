/**
 * Capability lanes: how many tasks of one capability a process runs at once, in all and per domain.
 * The action agent takes a lane slot before it runs a task; when the lane is full it defers the
 * message (DeferredError: back on the queue after a short delay, no attempt used), which frees its
 * worker slot for other work. So ten hanging fetches hold at most the fetch lane, never every slot,
 * and "What is 2+2?" is answered while they hang.
 *
 * The limits are per process: N action-agent processes run up to N × the lane. That keeps a slow
 * domain from starving one process's cheap work, which is the point; a deployment that needs one
 * global cap per domain divides the lane by its process count.
 */
import type { Capability } from "./types.ts";

export interface LaneSlot {
  /** Gives the slot back; calling it twice is harmless. */
  release(): void;
}

export type LaneEntry = { ok: true; slot: LaneSlot } | { ok: false; reason: string };

interface LaneState {
  running: number;
  byDomain: Map<string, number>;
}

// Keyed by the capability object: each catalog (each runtime in a process) has its own lanes.
const lanes = new WeakMap<Capability, LaneState>();
const FREE: LaneSlot = { release: () => undefined };

/** A slot in the capability's lane for this domain, or why there is none right now. */
export function enterLane(cap: Capability, domain: string | undefined): LaneEntry {
  const limits = cap.lanes;
  if (!limits) return { ok: true, slot: FREE };
  let state = lanes.get(cap);
  if (!state) lanes.set(cap, (state = { running: 0, byDomain: new Map() }));
  const s = state;
  const key = limits.perDomain !== undefined && domain !== undefined ? domain : undefined;
  const inDomain = key !== undefined ? (s.byDomain.get(key) ?? 0) : 0;
  if (key !== undefined && limits.perDomain !== undefined && inDomain >= limits.perDomain) {
    return { ok: false, reason: `${cap.name} lane for ${key} is full (${inDomain} of ${limits.perDomain} running in this process)` };
  }
  if (s.running >= limits.max) return { ok: false, reason: `${cap.name} lane is full (${s.running} of ${limits.max} running in this process)` };
  s.running++;
  if (key !== undefined) s.byDomain.set(key, inDomain + 1);
  let released = false;
  return {
    ok: true,
    slot: {
      release: () => {
        if (released) return;
        released = true;
        s.running--;
        if (key === undefined) return;
        const left = (s.byDomain.get(key) ?? 1) - 1;
        if (left <= 0) s.byDomain.delete(key);
        else s.byDomain.set(key, left);
      },
    },
  };
}

/** Tasks of the capability running now in this process (for tests and diagnostics). */
export function laneLoad(cap: Capability): { running: number; byDomain: Record<string, number> } {
  const s = lanes.get(cap);
  return { running: s?.running ?? 0, byDomain: Object.fromEntries(s?.byDomain ?? []) };
}

/**
 * How long a deferred task waits before it looks again: short enough that a freed slot is used
 * soon, long enough not to spin; jittered so deferred tasks do not come back in lockstep.
 */
export function laneRetryDelayMs(random: () => number = Math.random): number {
  return 500 + Math.floor(random() * 500);
}
