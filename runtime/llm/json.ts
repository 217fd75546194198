/** Asking a model for JSON, and reading JSON out of what it answered. */
import type { Issue } from "../errors/index.ts";
import { normalizeDeep } from "../capabilities/normalize.ts";
import { normalizeText } from "../envelope/text.ts";
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

/** `normalized_chars`: present when NUL or lone surrogates were normalised (how many). */
export type ParsedReply = { ok: true; value: unknown; normalized_chars?: number } | { ok: false; issues: Issue[] };

// How many characters each parsed reply had normalised, keyed by the value handed on: the client
// returns that very object, so the agent that asked can say so without a change to LlmClient.
const normalizedCounts = new WeakMap<object, number>();

/**
 * Characters removed (NUL) or replaced (lone surrogates) when this value, as returned by
 * ctx.llm.json, was read from the model's reply; 0 when none or when the value is not one.
 */
export function normalizedCharsOf(value: unknown): number {
  return typeof value === "object" && value !== null ? (normalizedCounts.get(value) ?? 0) : 0;
}

/**
 * JSON from a model's reply. Tolerates what servers without a JSON mode add around it: code fences
 * and prose before or after the object. A model may write NUL (\u0000) or a lone surrogate, which
 * no message may carry: such characters are normalised here, where the model's text enters.
 */
export function parseJsonReply(reply: string): ParsedReply {
  // Raw NUL or lone surrogates in the text (a JSON string may not even hold a raw NUL) go first;
  // escaped ones (\u0000, \ud800) become characters only when parsed, and are normalised after.
  const raw = normalizeText(reply);
  const text = raw.text;
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
      const parsed = normalizeDeep(JSON.parse(candidate) as unknown);
      const changed = raw.changed + parsed.changed;
      const value = parsed.value;
      if (changed > 0 && typeof value === "object" && value !== null) normalizedCounts.set(value, changed);
      return changed > 0 ? { ok: true, value, normalized_chars: changed } : { ok: true, value };
    } catch (err) {
      firstError ||= (err as Error).message;
    }
  }
  return { ok: false, issues: [{ pointer: "", message: `is not valid JSON (${firstError})`, rule: "content" }] };
}
