/** Envelope and spec types come from the schemas (runtime/schemas/generated); this file names them. */
import type { Envelope as GeneratedEnvelope } from "../schemas/generated/index.ts";

export type { AgentSpec, ContentTypeMap, ContentTypeName } from "../schemas/generated/index.ts";
export type {
  EnvelopeAgent,
  EnvelopeAudit,
  EnvelopeError,
  EnvelopeInput,
  EnvelopeMetadata,
  EnvelopeNextAgent,
  EnvelopeResources,
  EnvelopeStatus,
  EnvelopeTimestamp,
  ResourceRef,
} from "../schemas/generated/envelope.ts";

/**
 * Free JSON, as the schemas define it (the `json_object` of task, plan, action_result and
 * dispatch_report; the generator writes one structurally identical copy per schema, this names one).
 */
export type { JsonObject, JsonValue } from "../schemas/generated/content_task.ts";
import type { JsonObject } from "../schemas/generated/content_task.ts";

/** An envelope whose `output.content` is typed by its content type where that is known. */
export type Envelope<C extends JsonObject = JsonObject> = Omit<GeneratedEnvelope, "output"> & {
  output: { content: C; content_type: string };
};

export const COMPLETE = "COMPLETE";

export type { GeneratedEnvelope };
