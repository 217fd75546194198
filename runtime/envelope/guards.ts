/**
 * Structural guards that run before the JSON Schema: hostile input (prototype keys, deep nesting,
 * oversized payloads) is refused before Ajv walks it.
 */
import type { Issue } from "../errors/index.ts";
import { escapePointer } from "../schemas/registry.ts";

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
export const MAX_DEPTH = 32;

export interface GuardLimits {
  maxBytes: number;
  maxDepth?: number;
}

/**
 * One iterative walk (no recursion, so deep input cannot overflow the stack) that checks keys,
 * depth and an estimate of the serialized size (characters, which is ≤ UTF-8 bytes).
 */
export function checkStructure(value: unknown, limits: GuardLimits): Issue[] {
  const maxDepth = limits.maxDepth ?? MAX_DEPTH;
  const issues: Issue[] = [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [{ pointer: "", message: "envelope must be a JSON object", rule: "guard" }];
  }
  let size = 0;
  let depthReported = false;
  const stack: Array<{ v: unknown; p: string; d: number }> = [{ v: value, p: "", d: 1 }];
  while (stack.length > 0) {
    const { v, p, d } = stack.pop() as { v: unknown; p: string; d: number };
    if (typeof v === "string") {
      size += v.length + 2;
    } else if (typeof v === "object" && v !== null) {
      if (d > maxDepth) {
        if (!depthReported) issues.push({ pointer: p, message: `nesting is deeper than ${maxDepth} levels`, rule: "guard" });
        depthReported = true;
        continue;
      }
      if (Array.isArray(v)) {
        size += 2 + v.length;
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], p: `${p}/${i}`, d: d + 1 });
      } else {
        size += 2;
        for (const key of Object.keys(v)) {
          const child = `${p}/${escapePointer(key)}`;
          size += key.length + 4;
          if (FORBIDDEN_KEYS.has(key)) {
            issues.push({ pointer: child, message: `key "${key}" is forbidden (prototype pollution)`, rule: "guard" });
            continue;
          }
          stack.push({ v: (v as Record<string, unknown>)[key], p: child, d: d + 1 });
        }
      }
    } else {
      size += 8;
    }
    if (size > limits.maxBytes) {
      issues.push({ pointer: "", message: `envelope is larger than ${limits.maxBytes} bytes`, rule: "guard" });
      break;
    }
  }
  return issues;
}
