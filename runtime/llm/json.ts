/** Asking a model for JSON, and reading JSON out of what it answered. */
import type { Issue } from "../errors/index.ts";
import type { ChatRequest } from "./types.ts";

/**
 * The system prompt's JSON section. With `includeSchema` the schema is spelled out (providers
 * without a native JSON mode, or servers that may ignore it); without, it is named only.
 */
export function jsonInstruction(json: NonNullable<ChatRequest["json"]>, includeSchema: boolean): string {
  const head = `Reply with one JSON object only, no prose and no code fences. It must satisfy the JSON Schema "${json.name}"`;
  return includeSchema ? `${head}:\n${JSON.stringify(schemaForModel(json.schema))}` : `${head} given with this request.`;
}

export function withJsonInstruction(request: ChatRequest, includeSchema: boolean): string {
  return request.json ? `${request.system}\n\n${jsonInstruction(request.json, includeSchema)}` : request.system;
}

/** A schema as sent to a provider: without `$schema`/`$id`, which some servers refuse. Local `$ref`s still resolve. */
export function schemaForModel(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** A name the OpenAI API accepts for a response format (`^[a-zA-Z0-9_-]{1,64}$`). */
export function formatName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) || "output";
}

export type ParsedReply = { ok: true; value: unknown } | { ok: false; issues: Issue[] };

/**
 * JSON from a model's reply. Tolerates what servers without a JSON mode add around it: code fences
 * and prose before or after the object.
 */
export function parseJsonReply(text: string): ParsedReply {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, issues: [{ pointer: "", message: "the reply was empty; expected a JSON object", rule: "content" }] };
  const candidates = [trimmed];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(trimmed);
  if (fenced?.[1]) candidates.push(fenced[1].trim());
  const first = trimmed.indexOf("{");
  const last = trimmed.lastIndexOf("}");
  if (first >= 0 && last > first) candidates.push(trimmed.slice(first, last + 1));
  let firstError = "";
  for (const candidate of candidates) {
    try {
      return { ok: true, value: JSON.parse(candidate) as unknown };
    } catch (err) {
      firstError ||= (err as Error).message;
    }
  }
  return { ok: false, issues: [{ pointer: "", message: `is not valid JSON (${firstError})`, rule: "content" }] };
}
