/** Time is injected: the runtime asks a Clock, tests hand it one they control. */
import { DateTime } from "luxon";

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  static at(iso: string): ManualClock {
    const dt = DateTime.fromISO(iso, { setZone: true });
    if (!dt.isValid) throw new Error(`invalid ISO time: ${iso}`);
    return new ManualClock(dt.toMillis());
  }
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** The instant rendered in an IANA zone, as the envelope's timestamp block wants it. */
export function renderTimestamp(ms: number, timezone: string): { executed_at: string; timezone: string } {
  const dt = DateTime.fromMillis(ms, { zone: timezone });
  return { executed_at: dt.toISO({ suppressMilliseconds: false, includeOffset: true }) ?? dt.toUTC().toISO() ?? "", timezone };
}
