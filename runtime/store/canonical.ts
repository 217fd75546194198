/**
 * Canonical JSON for hashing: object keys sorted (by UTF-16 code units, as RFC 8785 does) at every
 * depth, no whitespace, values serialised exactly as JSON.stringify would. The output parsed and
 * canonicalised again is byte-identical, which is what lets a row read back from jsonb re-hash to
 * the value computed before it was written.
 */
import { createHash } from "node:crypto";

export function canonicalJson(value: unknown): string {
  const out = write(value, new Set());
  // JSON.stringify(undefined) is undefined; a missing value is recorded as null.
  return out ?? "null";
}

function write(value: unknown, ancestors: Set<object>): string | undefined {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value === "string" || typeof value === "boolean" || typeof value === "number") {
    return JSON.stringify(value); // non-finite numbers become "null", as in JSON.stringify
  }
  if (typeof value === "bigint") throw new TypeError("canonicalJson: BigInt is not JSON");
  if (typeof value !== "object") return undefined; // undefined, functions, symbols: omitted like JSON.stringify
  if (ancestors.has(value)) throw new TypeError("canonicalJson: circular structure");
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = "[" + value.map((item: unknown) => write(item, ancestors) ?? "null").join(",") + "]";
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = write(record[key], ancestors);
      if (item !== undefined) parts.push(JSON.stringify(key) + ":" + item);
    }
    out = "{" + parts.join(",") + "}";
  }
  ancestors.delete(value);
  return out;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
