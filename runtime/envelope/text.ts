/**
 * Text that Postgres cannot store and JSON tools disagree on: U+0000 (refused by jsonb and text) and
 * lone UTF-16 surrogates (not Unicode at all). The rule, applied wherever text enters:
 * - what a person or a client sent (HTTP, CLI, an envelope on the bus) is REFUSED with the pointer
 *   and offset of the first bad character, so the sender can fix it;
 * - what the system fetched or a model wrote (pages, LLM output) is NORMALISED with normalizeText
 *   before it goes into an envelope, and the caller says so (nobody upstream can fix a web page).
 */

// NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

export interface UnsafeChar {
  /** UTF-16 offset of the character in the string. */
  index: number;
  what: "NUL character (U+0000)" | "lone surrogate";
  code: string;
}

/** The first character of `text` that cannot be stored, or null when it is safe. */
export function firstUnsafeChar(text: string): UnsafeChar | null {
  const m = UNSAFE.exec(text);
  if (!m) return null;
  const ch = m[0];
  const code = `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  return { index: m.index, what: ch === "\u0000" ? "NUL character (U+0000)" : "lone surrogate", code };
}

/** A sentence for an Issue's message: 'contains a lone surrogate (U+D800) at offset 12: …'. */
export function describeUnsafeChar(found: UnsafeChar): string {
  return `contains a ${found.what === "lone surrogate" ? `lone surrogate (${found.code})` : found.what} at offset ${found.index}; remove it or send the text as valid UTF-8`;
}

export interface NormalizedText {
  text: string;
  /** How many characters were removed (NUL) or replaced with U+FFFD (lone surrogates). */
  changed: number;
}

/** NUL removed, lone surrogates replaced with U+FFFD; everything else kept as it was. */
export function normalizeText(text: string): NormalizedText {
  if (!UNSAFE.test(text)) return { text, changed: 0 };
  let changed = 0;
  const out = text.replace(UNSAFE_ALL, (ch) => {
    changed++;
    return ch === "\u0000" ? "" : "\ufffd";
  });
  return { text: out, changed };
}
