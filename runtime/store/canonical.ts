/**
 * Canonical JSON for hashing: object keys sorted (by UTF-16 code units, as RFC 8785 does) at every
 * depth, no whitespace, values serialised exactly as JSON.stringify would. The output parsed and
 * canonicalised again is byte-identical, which is what lets a row read back from jsonb re-hash to
 * the value computed before it was written.
 */
import { hash } from "node:crypto";

export function canonicalJson(value: unknown): string {
  // JSON.stringify(undefined) is undefined; a missing value is recorded as null.
  const out = write(value, []) ?? "null";
  // V8 builds `out` as a rope (a tree of concatenations). Reading a character flattens it in place,
  // once; left a rope, every later reader walks the tree again: sha256 of a row that embeds it
  // measured 3x the cost (~10 instead of ~3 µs per 1.2 KB envelope).
  out.charCodeAt(0);
  return out;
}

// Hot path (every audited envelope). What it costs is not the string appends (V8 builds them as
// ropes; a parts array + join measured slower) but the calls per key and value: Array.prototype.sort
// (~350 ns for 11 keys), JSON.stringify of every key and string (~100 ns each). Hence an insertion
// sort, a cache of quoted keys, and JSON.stringify only for strings that need escaping. The output
// is pinned to the plain form (sort() + JSON.stringify everywhere) by test/store/canonical.property.test.ts.
function write(value: unknown, stack: object[]): string | undefined {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      // What JSON.stringify writes: Number::toString for finite numbers (so -0 is "0", 1e21 is
      // "1e+21"), "null" for NaN and ±Infinity.
      return Number.isFinite(value) ? "" + value : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("canonicalJson: BigInt is not JSON");
    case "object":
      break;
    default:
      return undefined; // undefined, functions, symbols: omitted like JSON.stringify
  }
  if (value === null) return "null";
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return write((value as { toJSON: () => unknown }).toJSON(), stack);
  }
  if (stack.includes(value)) throw new TypeError("canonicalJson: circular structure");
  stack.push(value);
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += write(value[i], stack) ?? "null";
    }
    out += "]";
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length > 1) sortKeys(keys);
    out = "{";
    for (const key of keys) {
      const item = write(record[key], stack);
      if (item === undefined) continue;
      if (out.length > 1) out += ",";
      out += quotedKey(key) + item;
    }
    out += "}";
  }
  stack.pop();
  return out;
}

/**
 * Characters JSON.stringify escapes: '"', '\', controls below U+0020, and lone surrogates (here
 * every surrogate, paired or not: a paired one just takes the JSON.stringify path).
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what needs escaping
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : '"' + text + '"';
}

// Envelopes repeat the same few dozen keys; bounded so that hostile input cannot grow it.
const QUOTED_KEYS = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;
const QUOTED_KEY_MAX_LENGTH = 64;

/** `"key":` */
function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    quoted = quote(key) + ":";
    if (key.length <= QUOTED_KEY_MAX_LENGTH) {
      if (QUOTED_KEYS.size >= QUOTED_KEYS_MAX) QUOTED_KEYS.clear();
      QUOTED_KEYS.set(key, quoted);
    }
  }
  return quoted;
}

/**
 * In place, by UTF-16 code units: the order of Array.prototype.sort() without a comparator (keys are
 * distinct, so stability does not matter). Insertion sort: objects have few keys and are often
 * sorted or nearly so already; past 32 keys the built-in sort is used.
 */
function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 32) {
    keys.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}

/** sha256 of the UTF-8 bytes, as hex. One-shot crypto.hash: ~1 µs cheaper per call than a createHash object. */
export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}
