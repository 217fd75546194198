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

export type JsonObject = Record<string, unknown>;

/** An envelope whose `output.content` is typed by its content type where that is known. */
export type Envelope<C extends JsonObject = JsonObject> = Omit<GeneratedEnvelope, "output"> & {
  output: { content: C; content_type: string };
};

export const COMPLETE = "COMPLETE";

export type { GeneratedEnvelope };
