/**
 * A capability catalog for planning tests: the built-ins' declarations as the issue 4 brief fixes
 * them (consumes, produces, required inputs), plus a few extra capabilities for rule tests. The
 * executors are never called by the planner or the dispatcher.
 */
import type { Capability, CapabilityCatalog } from "../../../runtime/capabilities/types.ts";

interface Declaration {
  consumes: Record<string, string>;
  produces: Record<string, string>;
  required?: string[];
  /** Extra input properties (optional ones, or overrides of the generated ones). */
  inputs?: Record<string, Record<string, unknown>>;
  outputs?: string[];
}

export function declare(name: string, d: Declaration): Capability {
  const inputProps: Record<string, Record<string, unknown>> = {};
  for (const [field, type] of Object.entries(d.consumes)) inputProps[field] = type === "terms" ? { type: "array", items: { type: "string" } } : { type: "string" };
  Object.assign(inputProps, d.inputs ?? {});
  const outputProps: Record<string, unknown> = {};
  for (const field of [...Object.keys(d.produces), ...(d.outputs ?? [])]) outputProps[field] = {};
  return {
    name,
    description: `${name} (test declaration)`,
    consumes: d.consumes,
    produces: d.produces,
    inputSchema: { type: "object", additionalProperties: false, required: d.required ?? Object.keys(d.consumes), properties: inputProps },
    outputSchema: { type: "object", properties: outputProps },
    execute: () => Promise.reject(new Error(`${name} is a test declaration and does not run`)),
  };
}

export const BUILTINS: Capability[] = [
  declare("fetch", { consumes: { url: "url" }, produces: { html: "html" }, outputs: ["status", "content_type", "domain", "bytes"] }),
  declare("extract_text", { consumes: { html: "html" }, produces: { text: "text" }, outputs: ["title"] }),
  declare("find_mentions", { consumes: { text: "text", terms: "terms" }, produces: { passages: "passages" }, outputs: ["counts"] }),
  declare("summarize", { consumes: { text: "text" }, produces: { summary: "summary" }, inputs: { max_sentences: { type: "integer" } } }),
  declare("compute", { consumes: { expression: "expression" }, produces: { value: "number" }, outputs: ["expression"] }),
];

/** text → text: something a rule can insert before summarize. */
export const CLEAN_TEXT = declare("clean_text", { consumes: { text: "text" }, produces: { text: "text" } });

/** A catalog sorted by name, like the runtime's registry. */
export function catalogOf(capabilities: readonly Capability[]): CapabilityCatalog {
  const sorted = [...capabilities].sort((a, b) => a.name.localeCompare(b.name));
  const byName = new Map(sorted.map((c) => [c.name, c]));
  return { get: (name) => byName.get(name), list: () => [...sorted] };
}

export const testCatalog = (extra: readonly Capability[] = []): CapabilityCatalog => catalogOf([...BUILTINS, ...extra]);
