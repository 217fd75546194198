/**
 * Bounded tables for the batch summary: memory grows with the number of distinct patterns, never
 * with the number of records. A table holds at most `cap` keys; observations of a key that arrives
 * once the table is full are counted as overflow (and reported), not kept.
 */

export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  overflow = 0;

  constructor(readonly cap: number) {}

  /** The entry for `key`, created with `init` when there is room; undefined (counted) when full. */
  entry(key: string, init: () => V): V | undefined {
    const known = this.map.get(key);
    if (known !== undefined) return known;
    if (this.map.size >= this.cap) {
      this.overflow += 1;
      return undefined;
    }
    const created = init();
    this.map.set(key, created);
    return created;
  }

  get size(): number {
    return this.map.size;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }
}

/** Sum, sum of squares, min and max: mean and spread without keeping the values. */
export interface Moments {
  n: number;
  sum: number;
  sum_sq: number;
  min: number;
  max: number;
}

export function moments(): Moments {
  return { n: 0, sum: 0, sum_sq: 0, min: Number.POSITIVE_INFINITY, max: 0 };
}

export function observe(m: Moments, value: number): void {
  m.n += 1;
  m.sum += value;
  m.sum_sq += value * value;
  if (value < m.min) m.min = value;
  if (value > m.max) m.max = value;
}

export function momentsOut(m: Moments): { sum: number; sum_sq: number; min: number; max: number } {
  return { sum: m.sum, sum_sq: m.sum_sq, min: m.n > 0 ? m.min : 0, max: m.max };
}

/** Adds an example session id to a list capped at `cap` (the first ones seen are kept). */
export function addExample(list: string[], id: string, cap: number): void {
  if (list.length < cap && !list.includes(id)) list.push(id);
}

export function rate(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, part / whole) : 0;
}
