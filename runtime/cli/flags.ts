/**
 * Parsing of numeric flags, the same way for every command: a bad value is a usage error (exit 2,
 * one line saying what was expected), checked before anything is opened.
 */
import { AgentbusError } from "../errors/index.ts";

/** A whole number ≥ 1 (`--limit`). */
export function positiveIntFlag(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < 1) throw new AgentbusError("USAGE", `${flag} must be a positive whole number, got ${raw}`);
  return n;
}

/** A positive number of seconds, fractions allowed (`--timeout`). */
export function secondsFlag(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n <= 0) throw new AgentbusError("USAGE", `${flag} must be a positive number of seconds, got ${raw}`);
  return n;
}

/** A TCP port; 0 picks a free one (`--port`). */
export function portFlag(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) throw new AgentbusError("USAGE", `${flag} must be a port number (0 picks a free one), got ${raw}`);
  return n;
}
