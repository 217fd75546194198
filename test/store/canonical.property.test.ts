/**
 * The fast canonicalJson / rowHash / sha256Hex / jsonbCanHold must give exactly what the plain
 * forms they replaced give (existing hash chains depend on it): compared here on many random and
 * hostile values, seeded so a failure reproduces.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "../../runtime/store/canonical.ts";
import { HASH_VERSION, jsonbCanHold, rowHash, rowHashReference, type AuditContent, type AuditOutcome } from "../../runtime/store/audit-hash.ts";
import { envelope, hostileEnvelopes } from "./fixtures.ts";

// ---- The forms before the optimisation, verbatim: the reference ----

function referenceCanonicalJson(value: unknown): string {
  return referenceWrite(value, []) ?? "null";
}

function referenceWrite(value: unknown, stack: object[]): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("canonicalJson: BigInt is not JSON");
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null) return "null";
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return referenceWrite((value as { toJSON: () => unknown }).toJSON(), stack);
  }
  if (stack.includes(value)) throw new TypeError("canonicalJson: circular structure");
  stack.push(value);
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += referenceWrite(value[i], stack) ?? "null";
    }
    out += "]";
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    out = "{";
    for (const key of keys) {
      const item = referenceWrite(record[key], stack);
      if (item === undefined) continue;
      if (out.length > 1) out += ",";
      out += JSON.stringify(key) + ":" + item;
    }
    out += "}";
  }
  stack.pop();
  return out;
}

function referenceSha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function referenceRowHash(c: AuditContent, seq: number, prevHash: string): string {
  const s = JSON.stringify;
  return referenceSha256Hex(
    `{"agent":${s(c.agent)},"chain_key":${s(c.chainKey)},"envelope":${c.envelopeJson},"message_id":${s(c.messageId)},` +
      `"outcome":${s(c.outcome)},"prev_hash":${s(prevHash)},"reasons":${c.reasonsJson},"recorded_at":${s(c.recordedAt)},` +
      `"seq":${seq},"session_id":${s(c.sessionId)},"v":${HASH_VERSION}}`,
  );
}

function referenceJsonbCanHold(json: string): boolean {
  return !/\\u0000|\\ud[89a-f]/i.test(json);
}

// ---- Random values ----

/** mulberry32: small, seeded, good enough to spread cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_CHARS = [
  "\u0000", "\u0001", "\u001f", "\u007f", "\b", "\f", "\n", "\r", "\t", '"', "\\", "/", "\u2028", "\u2029",
  "\ud800", "\udbff", "\udc00", "\udfff", "\ud834\udd1e", "😀", "\ufeff", "\ufffd", "ü", "ß", "✓", "中", "\u0300",
  "\\u0000", "\\ud800", "\\U0000", "\\\\u0000", "a", "Z", "0", " ", "_", "-", "$", "~", "{", "}", "[", "]", ",", ":",
];
const NUMBERS = [
  0, -0, 1, -1, 0.1 + 0.2, 1e21, 1e-7, 1e-6, 123456789012345680000, 5e-324, -5e-324, Number.MAX_VALUE, Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, -(2 ** 31), 2 ** 32, 1.5e300, NaN, Infinity, -Infinity, 100, 1e20, 1e-300,
];
const KEYS = [
  "", "a", "b", "A", "Z", "_", "$", "~", "aa", "a b", "é", "e\u0301", "中文", "😀", "\ud800", "\udc00", "\u0000", "\u007f",
  "__proto__", "constructor", "toJSON", "prototype", "hasOwnProperty", "length",
  "0", "1", "2", "10", "01", "-1", "1.5", "1e3", "4294967294", "4294967295", "9007199254740993", " 1",
  "message_id", "metadata", "session_id", "sequence_number", "status", "output", "content",
];

function randomString(rand: () => number, max = 12): string {
  const n = Math.floor(rand() * max);
  let out = "";
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.45) out += HOSTILE_CHARS[Math.floor(rand() * HOSTILE_CHARS.length)];
    else if (r < 0.55) out += String.fromCharCode(Math.floor(rand() * 0x10000)); // any code unit, surrogates included
    else out += String.fromCharCode(0x20 + Math.floor(rand() * 0x5f));
  }
  return out;
}

function randomKey(rand: () => number): string {
  return rand() < 0.6 ? (KEYS[Math.floor(rand() * KEYS.length)] as string) : randomString(rand, 6);
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.35) {
    // scalars, and the things JSON.stringify omits or turns into null
    const k = Math.floor(rand() * 12);
    switch (k) {
      case 0:
      case 1:
      case 2:
        return randomString(rand, 24);
      case 3:
      case 4:
        return NUMBERS[Math.floor(rand() * NUMBERS.length)];
      case 5:
        return rand() * 2e6 - 1e6;
      case 6:
        return rand() < 0.5;
      case 7:
        return null;
      case 8:
        return undefined;
      case 9:
        return rand() < 0.5 ? () => 1 : Symbol("s");
      case 10:
        return new Date(Math.floor(rand() * 4e12));
      default:
        return "";
    }
  }
  if (r < 0.6) {
    const obj: Record<string, unknown> = rand() < 0.1 ? (Object.create(null) as Record<string, unknown>) : {};
    const n = Math.floor(rand() * (rand() < 0.1 ? 50 : 8)); // sometimes past the insertion sort's 32 keys
    for (let i = 0; i < n; i++) {
      const key = randomKey(rand);
      const value = randomValue(rand, depth - 1);
      if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      else obj[key] = value;
    }
    return obj;
  }
  if (r < 0.8) {
    const n = Math.floor(rand() * 6);
    const arr: unknown[] = [];
    for (let i = 0; i < n; i++) arr.push(randomValue(rand, depth - 1));
    if (rand() < 0.1) arr[n + 2] = 1; // holes
    return arr;
  }
  // oddities: toJSON, boxed primitives, class instances, Map/Set, symbol keys, getters
  switch (Math.floor(rand() * 9)) {
    case 0: {
      const inner = randomValue(rand, depth - 1); // drawn once: each serialisation must see the same value
      return { toJSON: () => inner, ignored: 1 };
    }
    case 1:
      return { toJSON: () => undefined };
    case 2:
      return [new Number(-0), new String("ab\u0000"), new Boolean(false)];
    case 3:
      return new Point(rand(), -0);
    case 4:
      return [new Map([["a", 1]]), new Set([1])];
    case 5:
      return { [Symbol("k")]: 1, visible: randomString(rand) };
    case 6:
      return Object.defineProperty({ b: 2 }, "a", { get: () => "from getter", enumerable: true });
    case 7:
      return Object.defineProperty({ b: 2 }, "hidden", { value: 1, enumerable: false });
    default:
      return { toJSON: "not a function", n: NaN };
  }
}

/** What a call gives: its output, or the error it throws (type and message). */
function outcome(fn: () => string): string {
  try {
    return `ok:${fn()}`;
  } catch (err) {
    return `throws:${(err as Error).constructor.name}:${(err as Error).message}`;
  }
}

describe("canonical JSON, fast form against the reference", () => {
  it("agrees on thousands of random values", () => {
    for (let seed = 1; seed <= 4000; seed++) {
      const rand = prng(seed);
      const value = randomValue(rand, 1 + Math.floor(rand() * 5));
      const expected = outcome(() => referenceCanonicalJson(value));
      expect(outcome(() => canonicalJson(value)), `seed ${seed}`).toBe(expected);
    }
  });

  it("agrees on hostile envelopes, odd numbers and keys", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    const cyclicArray: unknown[] = [1];
    cyclicArray.push([cyclicArray]);
    const shared = { x: [1, { y: 2 }] };
    const values: unknown[] = [
      ...hostileEnvelopes,
      envelope("s-1", 1),
      NUMBERS,
      Object.fromEntries(NUMBERS.map((n, i) => [`n${i}`, n])),
      Object.fromEntries(KEYS.map((k, i) => [k, i])),
      Object.fromEntries(KEYS.map((k, i) => [k, i]).reverse()),
      Object.fromEntries(HOSTILE_CHARS.map((c, i) => [c, c + String(i)])),
      HOSTILE_CHARS,
      HOSTILE_CHARS.join(""),
      { "10": 1, "2": 2, "1": 3, b: 4, a: 5, "-1": 6, "01": 7 },
      { z: 1, y: { x: 2, w: [3, { v: 4, u: 5 }] } },
      [shared, shared, { shared }],
      { b: undefined, a: () => 1, c: Symbol("c"), d: [undefined, () => 1, Symbol("d")] },
      { big: 1n },
      [1n],
      cyclic,
      cyclicArray,
      undefined,
      () => 1,
      Symbol("x"),
      "",
      -0,
      1e21,
      NaN,
      { a: new Date(NaN) }, // toJSON gives null
      Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${(i * 37) % 100}`, i])), // past the insertion sort
      Object.fromEntries(Array.from({ length: 33 }, (_, i) => [String.fromCharCode(0x5a - (i % 26)) + String(i), i])),
    ];
    for (const [i, value] of values.entries()) {
      expect(outcome(() => canonicalJson(value)), `value ${i}`).toBe(outcome(() => referenceCanonicalJson(value)));
    }
  });

  it("agrees on deep nesting", () => {
    let obj: unknown = "leaf \u0000";
    let arr: unknown = -0;
    for (let i = 0; i < 1500; i++) {
      obj = { [`k${i % 3}`]: obj, a: i, "\ud800": [i] };
      arr = [arr, { z: i }];
    }
    expect(canonicalJson(obj)).toBe(referenceCanonicalJson(obj));
    expect(canonicalJson(arr)).toBe(referenceCanonicalJson(arr));
  });

  it("stays right once its cache of quoted keys has filled and been cleared", () => {
    const rand = prng(42);
    for (let round = 0; round < 6; round++) {
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < 3000; i++) obj[randomString(rand, 8) + String(i)] = i; // distinct keys, some with escapes
      obj["x".repeat(65)] = "a key too long to cache";
      obj["y\u0000".repeat(40)] = "and one with NUL";
      expect(canonicalJson(obj)).toBe(referenceCanonicalJson(obj));
      expect(canonicalJson(envelope("s-cache", round))).toBe(referenceCanonicalJson(envelope("s-cache", round)));
    }
  });

  it("is still stable through a JSON round trip", () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const rand = prng(seed);
      let once: string;
      try {
        once = canonicalJson(randomValue(rand, 4));
      } catch {
        continue; // BigInt: not JSON
      }
      expect(canonicalJson(JSON.parse(once)), `seed ${seed}`).toBe(once);
    }
  });
});

describe("row hash and sha256, fast form against the reference", () => {
  const OUTCOMES: AuditOutcome[] = ["published", "delivered", "rejected", "dead_lettered", "completed"];

  it("sha256Hex hashes the same UTF-8 bytes (lone surrogates included)", () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const text = randomString(prng(seed), 64);
      expect(sha256Hex(text), `seed ${seed}`).toBe(referenceSha256Hex(text));
    }
    expect(sha256Hex("")).toBe(referenceSha256Hex(""));
    const big = "𝄞".repeat(100_000) + "\ud800";
    expect(sha256Hex(big)).toBe(referenceSha256Hex(big));
  });

  it("rowHash gives the same digest as before, and as the canonical re-walk", () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const rand = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
      let envelopeJson: string;
      try {
        envelopeJson = canonicalJson(rand() < 0.3 ? envelope(`s-${seed}`, seed) : randomValue(rand, 4));
      } catch {
        continue;
      }
      const content: AuditContent = {
        chainKey: rand() < 0.2 ? "_unsessioned" : randomString(rand, 20),
        sessionId: rand() < 0.2 ? null : randomString(rand, 20),
        messageId: rand() < 0.2 ? null : randomString(rand, 40),
        outcome: pick(OUTCOMES),
        agent: randomString(rand, 30),
        reasonsJson: rand() < 0.5 ? "null" : canonicalJson([{ message: randomString(rand), pointer: "/a", rule: "schema" }]),
        envelopeJson,
        recordedAt: new Date(Math.floor(rand() * 4e12)).toISOString(),
      };
      const seq = 1 + Math.floor(rand() * 1e9);
      const prev = sha256Hex(String(seed));
      const expected = referenceRowHash(content, seq, prev);
      expect(rowHash(content, seq, prev), `seed ${seed}`).toBe(expected);
      expect(rowHashReference(content, seq, prev), `seed ${seed}`).toBe(expected);
    }
  });

  it("jsonbCanHold decides as the plain regex did", () => {
    const samples = ['{"a":"\\u0000"}', '{"a":"\\U0000"}', '{"a":"\\uD800"}', '{"a":"\\ud7ff"}', '{"a":"\\\\u0000"}', '{"a":"\\u001f"}', '{"a":"u0000"}', "", "\\u", "\\U"];
    for (let seed = 1; seed <= 3000; seed++) {
      const rand = prng(seed);
      try {
        samples.push(canonicalJson(randomValue(rand, 3)));
      } catch {
        // BigInt
      }
      samples.push(randomString(rand, 30));
    }
    for (const s of samples) expect(jsonbCanHold(s), JSON.stringify(s)).toBe(referenceJsonbCanHold(s));
  });
});
