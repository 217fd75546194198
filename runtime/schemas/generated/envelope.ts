/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */
/**
 * msg-<abbr>-<YYYYMMDD>-<HHMMSS>[-<suffix>]
 */
export type MessageId = string;
export type AgentName = string;

/**
 * The one message every agent sends and receives. Cross-field rules (error consistency, registered content types, routes) are enforced in code; see governance/message_format.md.
 */
export interface Envelope {
  message_id: MessageId;
  timestamp: EnvelopeTimestamp;
  agent: EnvelopeAgent;
  input: EnvelopeInput;
  output: EnvelopeOutput;
  next_agent: EnvelopeNextAgent;
  status: EnvelopeStatus;
  error: EnvelopeError;
  metadata: EnvelopeMetadata;
  resources: EnvelopeResources;
  audit: EnvelopeAudit;
}
export interface EnvelopeTimestamp {
  /**
   * ISO-8601 with offset, rendered in `timezone`.
   */
  executed_at: string;
  timezone: string;
}
export interface EnvelopeAgent {
  name: AgentName;
  type: string;
}
export interface EnvelopeInput {
  source: AgentName;
  /**
   * The input the sender acted on (for a reply: the content it received).
   */
  content: {} | unknown[] | string | null;
}
export interface EnvelopeOutput {
  /**
   * Must satisfy the schema named by content_type.
   */
  content: {};
  content_type: string;
}
export interface EnvelopeNextAgent {
  name: AgentName | "COMPLETE";
  reason: string;
}
export interface EnvelopeStatus {
  code: "success" | "failed" | "partial" | "skipped" | "pending";
  message: string;
}
export interface EnvelopeError {
  has_error: boolean;
  error_code: string | null;
  error_message: string | null;
  retry_count: number;
  recoverable: boolean;
}
export interface EnvelopeMetadata {
  /**
   * Any id of letters, digits, '_' and '-' (up to 66): the seed spec's batch-20260224-2300 as well as the s-… ids the runtime mints.
   */
  session_id: string;
  /**
   * As session_id: batch_run as well as the r-… ids the runtime mints.
   */
  request_id: string;
  sequence_number: number;
  parent_message_id: MessageId | null;
}
export interface EnvelopeResources {
  /**
   * @maxItems 200
   */
  source_refs: ResourceRef[];
  /**
   * @maxItems 200
   */
  storage_refs: ResourceRef[];
  /**
   * @maxItems 200
   */
  derived_refs: ResourceRef[];
}
export interface ResourceRef {
  ref_id: string;
  uri: string;
  media_type?: string;
  description?: string;
  sha256?: string;
}
export interface EnvelopeAudit {
  /**
   * Free text, as in the learning agent spec; the runtime joins its notes with newlines.
   */
  compliance_notes: string;
  /**
   * @maxItems 100
   */
  governance_files_consulted: string[];
  reasoning: string;
}
