/**
 * normalizeText (envelope/text.ts) over a whole JSON value: every string and every object key, for
 * data the system fetched or a model wrote (capability outputs, an LLM's JSON). Nobody upstream can
 * fix such text, so it is normalised and the caller reports how many characters changed.
 */
import { normalizeText } from "../envelope/text.ts";

export interface NormalizedValue<T> {
  value: T;
  /** Characters removed (NUL) or replaced with U+FFFD (lone surrogates), over all strings. */
  changed: number;
}

export function normalizeDeep<T>(value: T): NormalizedValue<T> {
  let changed = 0;
  const text = (s: string): string => {
    const n = normalizeText(s);
    changed += n.changed;
    return n.text;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === "object" && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[text(k)] = walk(inner);
      return out;
    }
    return v;
  };
  const walked = walk(value) as T;
  // Unchanged values keep their identity, so callers can tell nothing happened by reference too.
  return changed === 0 ? { value, changed } : { value: walked, changed };
}
