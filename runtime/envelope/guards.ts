/**
 * Structural guards that run before the JSON Schema: hostile input (prototype keys, deep nesting,
 * oversized payloads, text Postgres cannot store) is refused before Ajv walks it.
 */
import type { Issue } from "../errors/index.ts";
import { escapePointer } from "../schemas/registry.ts";
import { describeUnsafeChar, firstUnsafeChar } from "./text.ts";

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
export const MAX_DEPTH = 32;

export interface GuardLimits {
  maxBytes: number;
  maxDepth?: number;
}

/** A value waiting to be walked; its JSON pointer is only spelled out when an issue needs it. */
interface Frame {
  v: unknown;
  parent: Frame | null;
  key: string;
  d: number;
}

function pointerOf(frame: Frame): string {
  let p = "";
  for (let f: Frame | null = frame; f && f.parent; f = f.parent) p = `/${escapePointer(f.key)}${p}`;
  return p;
}

/**
 * One iterative walk (no recursion, so deep input cannot overflow the stack) that checks keys,
 * depth, text (no NUL, no lone surrogate in any string value or key: see text.ts) and the size of
 * the value as compact JSON in UTF-8 bytes (what `maxBytes` limits). It runs on every send and
 * receive, so pointers are built only for the issues it reports, and the text check rides on the
 * size scan's one regex test per string.
 */
export function checkStructure(value: unknown, limits: GuardLimits): Issue[] {
  const maxDepth = limits.maxDepth ?? MAX_DEPTH;
  const issues: Issue[] = [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [{ pointer: "", message: "envelope must be a JSON object", rule: "guard" }];
  }
  let size = 0;
  let depthReported = false;
  const stack: Frame[] = [{ v: value, parent: null, key: "", d: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { v, d } = frame;
    if (typeof v === "string") {
      const bytes = jsonStringBytes(v);
      if (bytes < 0) {
        issues.push(unsafeIssue(pointerOf(frame), v, ""));
        size += -bytes;
      } else size += bytes;
    } else if (typeof v === "object" && v !== null) {
      if (d > maxDepth) {
        if (!depthReported) issues.push({ pointer: pointerOf(frame), message: `nesting is deeper than ${maxDepth} levels`, rule: "guard" });
        depthReported = true;
        continue;
      }
      if (Array.isArray(v)) {
        size += 2 + Math.max(0, v.length - 1);
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], parent: frame, key: String(i), d: d + 1 });
      } else {
        const keys = Object.keys(v);
        size += 2 + Math.max(0, keys.length - 1);
        for (const key of keys) {
          const bytes = jsonStringBytes(key);
          if (bytes < 0) {
            issues.push(unsafeIssue(`${pointerOf(frame)}/${escapePointer(key)}`, key, "key "));
            size += -bytes + 1;
            continue;
          }
          size += bytes + 1;
          if (FORBIDDEN_KEYS.has(key)) {
            issues.push({ pointer: `${pointerOf(frame)}/${escapePointer(key)}`, message: `key "${key}" is forbidden (prototype pollution)`, rule: "guard" });
            continue;
          }
          stack.push({ v: (v as Record<string, unknown>)[key], parent: frame, key, d: d + 1 });
        }
      }
    } else {
      size += scalarBytes(v);
    }
    if (size > limits.maxBytes) {
      issues.push({ pointer: "", message: `envelope is larger than ${limits.maxBytes} bytes`, rule: "guard" });
      break;
    }
  }
  return issues;
}

// eslint-disable-next-line no-control-regex -- JSON.stringify escapes exactly these control characters
const NEEDS_ESCAPE_SCAN = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES: ReadonlySet<number> = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/**
 * Bytes of `JSON.stringify(s)` in UTF-8: quotes, escapes and multi-byte characters included.
 * Negative (minus the bytes) when `s` holds a NUL or a lone surrogate: the escape scan that sizes
 * escapes sees those too, so the text rule costs no second pass over the string.
 */
function jsonStringBytes(s: string): number {
  const bytes = Buffer.byteLength(s, "utf8") + 2;
  if (!NEEDS_ESCAPE_SCAN.test(s)) return bytes;
  let extra = 0;
  let unsafe = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) extra += 1; // \" and \\
    else if (c < 0x20) {
      extra += SHORT_ESCAPES.has(c) ? 1 : 5; // \n or \u0001
      if (c === 0) unsafe = true;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++; // a pair: byteLength already counted its 4 bytes
      else {
        extra += 3; // a lone surrogate is written as \udxxx (6 bytes), byteLength counted 3
        unsafe = true;
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      extra += 3;
      unsafe = true;
    }
  }
  return unsafe ? -(bytes + extra) : bytes + extra;
}

/** The issue for a string value or key that holds text Postgres cannot store. */
function unsafeIssue(pointer: string, s: string, what: "" | "key "): Issue {
  const found = firstUnsafeChar(s);
  // The scan above and text.ts agree on what is unsafe; the fallback only guards against drift.
  const message = found ? describeUnsafeChar(found) : "contains a character that cannot be stored";
  return { pointer, message: `${what}${message}`, rule: "guard" };
}

function scalarBytes(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) ? String(v).length : 4;
  if (typeof v === "boolean") return v ? 4 : 5;
  if (typeof v === "bigint") return v.toString().length; // JSON.stringify would throw on it anyway
  return v === null ? 4 : 0; // undefined, functions and symbols are left out of JSON
}

/**
 * The depth guard alone, with checkStructure's pointer and message. For callers that must refuse a
 * deep value before anything that recurses sees it: the audit log's canonical JSON and
 * JSON.stringify (dead letters, BullMQ) overflow the stack on some thousands of levels, so a value
 * that deep cannot even be recorded as refused.
 */
export function depthIssue(value: unknown, maxDepth = MAX_DEPTH): Issue | null {
  const stack: Frame[] = [{ v: value, parent: null, key: "", d: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { v, d } = frame;
    if (typeof v !== "object" || v === null) continue;
    if (d > maxDepth) return { pointer: pointerOf(frame), message: `nesting is deeper than ${maxDepth} levels`, rule: "guard" };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], parent: frame, key: String(i), d: d + 1 });
    } else {
      for (const key of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[key], parent: frame, key, d: d + 1 });
    }
  }
  return null;
}
