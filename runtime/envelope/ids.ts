/** Identifiers: message ids in the DESIGN.md format, session and request ids. */
import { randomBytes } from "node:crypto";
import { DateTime } from "luxon";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Lower-case base36 random string; 10 chars ≈ 51 bits, enough to keep ids unique under load. */
export function randomSuffix(length = 10): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % 36];
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
  const dt = DateTime.fromMillis(ms, { zone: timezone });
  const base = `msg-${abbr}-${dt.toFormat("yyyyMMdd")}-${dt.toFormat("HHmmss")}`;
  return suffix ? `${base}-${suffix}` : base;
}

export function newSessionId(): string {
  return `s-${randomSuffix(16)}`;
}

export function newRequestId(): string {
  return `r-${randomSuffix(16)}`;
}

const MESSAGE_ID = /^msg-([a-z0-9]{2,16})-([0-9]{8})-([0-9]{6})(?:-([a-z0-9]{1,32}))?$/;

/** Parses a message id; null when it does not have the DESIGN.md form or names no real date/time. */
export function parseMessageId(id: string): { abbr: string; at: DateTime; suffix: string | null } | null {
  const m = MESSAGE_ID.exec(id);
  if (!m?.[1] || !m[2] || !m[3]) return null;
  const at = DateTime.fromFormat(`${m[2]}${m[3]}`, "yyyyMMddHHmmss", { zone: "UTC" });
  if (!at.isValid) return null;
  return { abbr: m[1], at, suffix: m[4] ?? null };
}
