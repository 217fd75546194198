/**
 * Pattern keys: stable names for patterns, so the review queue can tell a pattern seen again from
 * a new one. `<kind>:<what>`, e.g. action_failure:fetch:HTTP_429:x.org.
 */
import { createHash } from "node:crypto";
import type { PatternSubkind } from "./types.ts";

const MAX_KEY = 250;

export function hashOf(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** A category as a key part: lower case, [a-z0-9_.-] only; a hash is added when that changed it. */
export function slug(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "x";
  return s === text ? s : `${s}~${hashOf(text)}`;
}

export function patternKey(kind: PatternSubkind, ...parts: string[]): string {
  const key = `${kind}:${parts.join(":")}`;
  return key.length <= MAX_KEY + kind.length ? key : `${key.slice(0, 200)}~${hashOf(key, 16)}`;
}

/** A pattern id for the report's `patterns` (its id grammar is narrower than the key's). */
export function patternIdOf(key: string): string {
  return `${key.split(":")[0] ?? "pattern"}-${hashOf(key, 12)}`;
}
