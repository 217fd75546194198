/** Building envelopes: ids, timestamps in the configured zone, defaults for every block. */
import type { Clock } from "./clock.ts";
import { renderTimestamp } from "./clock.ts";
import { messageId, newRequestId, newSessionId } from "./ids.ts";
import type { Envelope, EnvelopeAudit, EnvelopeMetadata, EnvelopeResources, EnvelopeStatus, JsonObject } from "./types.ts";

export interface Sender {
  name: string;
  type: string;
  /** Short form used in message ids. */
  abbr: string;
}

export interface DraftError {
  code: string;
  message: string;
  recoverable: boolean;
  retry_count?: number;
}

/**
 * `C` is any object type, so that content typed by its schema (an interface such as Plan, which
 * TypeScript does not treat as an index-signature JsonObject) needs no cast; the envelope built from
 * it carries `C & JsonObject`, and the bus validates that it really is JSON before it is sent.
 */
export interface EnvelopeDraft<C extends object = JsonObject> {
  sender: Sender;
  input: { source: string; content: Envelope["input"]["content"] };
  output: { content_type: string; content: C };
  next_agent: { name: string; reason: string };
  metadata: EnvelopeMetadata;
  status?: EnvelopeStatus;
  error?: DraftError;
  resources?: Partial<EnvelopeResources>;
  audit?: DraftAudit;
  /** Supply to make a redelivered reply carry the same id (so the bus de-duplicates it). */
  message_id?: string;
}

/** The audit block as a builder writes it: compliance notes as a list, one note a line in the envelope. */
export interface DraftAudit extends Partial<Omit<EnvelopeAudit, "compliance_notes">> {
  compliance_notes?: string[];
}

/** The schema's cap on `audit.compliance_notes`. */
export const COMPLIANCE_NOTES_MAX = 8000;

/** Notes as the envelope carries them: one a line, cut (on a code point) to fit the schema. */
export function complianceText(notes: readonly string[]): string {
  const text = notes.map((n) => n.replace(/\r?\n/g, " ")).join("\n");
  if (text.length <= COMPLIANCE_NOTES_MAX) return text;
  const cut = Array.from(text.slice(0, COMPLIANCE_NOTES_MAX - 1));
  // slice may have split a surrogate pair; Array.from keeps the lone half as its own element.
  const last = cut[cut.length - 1];
  if (last && last.length === 1 && /[\ud800-\udbff]/.test(last)) cut.pop();
  return cut.join("") + "…";
}

export interface BuildContext {
  clock: Clock;
  timezone: string;
}

export function buildEnvelope<C extends object>(draft: EnvelopeDraft<C>, ctx: BuildContext): Envelope<C & JsonObject> {
  const now = ctx.clock.now();
  const err = draft.error;
  const status: EnvelopeStatus = draft.status ?? (err ? { code: "failed", message: err.message } : { code: "success", message: "ok" });
  return {
    message_id: draft.message_id ?? messageId(draft.sender.abbr, now, ctx.timezone),
    timestamp: renderTimestamp(now, ctx.timezone),
    agent: { name: draft.sender.name, type: draft.sender.type },
    input: { source: draft.input.source, content: draft.input.content },
    // Content is JSON by contract (see EnvelopeDraft); validation on publish enforces it.
    output: { content: draft.output.content as C & JsonObject, content_type: draft.output.content_type },
    next_agent: { name: draft.next_agent.name, reason: draft.next_agent.reason },
    status,
    error: err
      ? { has_error: true, error_code: err.code, error_message: err.message, retry_count: err.retry_count ?? 0, recoverable: err.recoverable }
      : { has_error: false, error_code: null, error_message: null, retry_count: 0, recoverable: false },
    metadata: { ...draft.metadata },
    resources: {
      source_refs: draft.resources?.source_refs ?? [],
      storage_refs: draft.resources?.storage_refs ?? [],
      derived_refs: draft.resources?.derived_refs ?? [],
    },
    audit: {
      compliance_notes: complianceText(draft.audit?.compliance_notes ?? []),
      governance_files_consulted: draft.audit?.governance_files_consulted ?? [],
      reasoning: draft.audit?.reasoning ?? "",
    },
  };
}

export interface RequestDraft<C extends object = JsonObject> {
  /** Who is asking: an external source such as `user`. */
  source?: string;
  content_type: string;
  content: C;
  to: string;
  reason?: string;
  session_id?: string;
  request_id?: string;
}

/** The first message of a new session, sent by an external source (sequence 1, no parent). */
export function buildRequest<C extends object>(draft: RequestDraft<C>, ctx: BuildContext): Envelope<C & JsonObject> {
  const source = draft.source ?? "user";
  return buildEnvelope(
    {
      sender: { name: source, type: "external", abbr: source.replace(/[^a-z0-9]/g, "").slice(0, 16).padEnd(2, "x") },
      input: { source, content: null },
      output: { content_type: draft.content_type, content: draft.content },
      next_agent: { name: draft.to, reason: draft.reason ?? `new ${draft.content_type} from ${source}` },
      metadata: {
        session_id: draft.session_id ?? newSessionId(),
        request_id: draft.request_id ?? newRequestId(),
        sequence_number: 1,
        parent_message_id: null,
      },
      audit: { compliance_notes: [`submitted by ${source}`], governance_files_consulted: [], reasoning: "" },
    },
    ctx,
  );
}
