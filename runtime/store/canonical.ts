/**
 * Canonical JSON for hashing: object keys sorted (by UTF-16 code units, as RFC 8785 does) at every
 * depth, no whitespace, values serialised exactly as JSON.stringify would. The output parsed and
 * canonicalised again is byte-identical, which is what lets a row read back from jsonb re-hash to
 * the value computed before it was written.
 */
import { createHash } from "node:crypto";

export function canonicalJson(value: unknown): string {
  // JSON.stringify(undefined) is undefined; a missing value is recorded as null.
  return write(value, []) ?? "null";
}

// Hot path (every audited envelope): plain loops and string appends, no intermediate arrays.
function write(value: unknown, stack: object[]): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return JSON.stringify(value); // non-finite numbers become "null", -0 becomes "0", as in JSON.stringify
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
    const keys = Object.keys(record).sort();
    out = "{";
    for (const key of keys) {
      const item = write(record[key], stack);
      if (item === undefined) continue;
      if (out.length > 1) out += ",";
      out += JSON.stringify(key) + ":" + item;
    }
    out += "}";
  }
  stack.pop();
  return out;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
