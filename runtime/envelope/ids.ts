/** Identifiers: message ids in the DESIGN.md format, session and request ids. */
import { randomBytes } from "node:crypto";
import { DateTime } from "luxon";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Lower-case base36 random string; 10 chars ≈ 51 bits, enough to keep ids unique under load. */
export function randomSuffix(length = 10): string {
  const bytes = pooledRandomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % 36];
  return out;
}

// One randomBytes call per 4 KiB instead of one per id (each byte is handed out once), as Node's
// own randomUUID does: ids are built on every reply, and a small randomBytes call costs ~4 µs.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function pooledRandomBytes(n: number): Uint8Array {
  if (poolOffset + n > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, n));
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

/** The short form of an agent name used in message ids: `planning_agent` → `planning`. */
export function abbreviate(agentName: string): string {
  const base = agentName.replace(/_agent$/, "").replace(/[^a-z0-9]/g, "");
  const abbr = base.slice(0, 16);
  return abbr.length >= 2 ? abbr : `${abbr}ag`.slice(0, 16);
}

/** `msg-<abbr>-<YYYYMMDD>-<HHMMSS>-<suffix>`, date and time rendered in `timezone`. */
export function messageId(abbr: string, ms: number, timezone: string, suffix: string | null = randomSuffix()): string {
  // Fields, not toFormat: luxon re-parses a format string on every call, and this runs per reply.
  const dt = DateTime.fromMillis(ms, { zone: timezone });
  const base = `msg-${abbr}-${pad(dt.year, 4)}${pad(dt.month, 2)}${pad(dt.day, 2)}-${pad(dt.hour, 2)}${pad(dt.minute, 2)}${pad(dt.second, 2)}`;
  return suffix ? `${base}-${suffix}` : base;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

export function newSessionId(): string {
  return `s-${randomSuffix(16)}`;
}

export function newRequestId(): string {
  return `r-${randomSuffix(16)}`;
}

const MESSAGE_ID = /^msg-([a-z0-9]{2,16})-([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})(?:-([a-z0-9]{1,32}))?$/;

export interface ParsedMessageId {
  abbr: string;
  /** The date and time in the id, read as UTC (built on first access). */
  readonly at: DateTime;
  suffix: string | null;
}

/**
 * Parses a message id; null when it does not have the DESIGN.md form or names no real date/time.
 * Validation checks two ids per envelope on every send and receive (isMessageId), so the calendar
 * check is done by hand with luxon's rules (24:00:00 is accepted, leap days by the Gregorian rule,
 * no leap seconds) instead of luxon's fromFormat, which costs ~12 µs per call.
 */
export function parseMessageId(id: string): ParsedMessageId | null {
  const m = MESSAGE_ID.exec(id);
  if (!m?.[1]) return null;
  const [year, month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6], m[7]].map(Number) as [number, number, number, number, number, number];
  if (!isRealDateTime(year, month, day, hour, minute, second)) return null;
  let at: DateTime | undefined;
  return {
    abbr: m[1],
    get at(): DateTime {
      at ??= DateTime.utc(year, month, day, hour, minute, second);
      return at;
    },
    suffix: m[8] ?? null,
  };
}

/** parseMessageId(id) !== null, without building the parsed value (validation only needs this). */
export function isMessageId(id: string): boolean {
  const m = MESSAGE_ID.exec(id);
  return m !== null && isRealDateTime(Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
}

function isRealDateTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour === 24) return minute === 0 && second === 0;
  return hour <= 23 && minute <= 59 && second <= 59;
}

/** Days in a month of the proleptic Gregorian calendar (month 1–12). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
