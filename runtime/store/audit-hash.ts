/**
 * What an audit row is and how its hash is computed. Shared by the writer (which computes hashes)
 * and the verifier (which re-computes them from what the database returns).
 */
import type { Issue } from "../errors/index.ts";
import { canonicalJson, sha256Hex } from "./canonical.ts";

export const AUDIT_OUTCOMES = ["published", "delivered", "rejected", "dead_lettered", "completed", "rule_decision"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Chain of the review decisions on memory rules (runtime/review); no session id can start with '_'. */
export const RULES_CHAIN = "_rules";
/** Chain of the messages so broken that they name no usable session. */
export const UNSESSIONED = "_unsessioned";
/** prev_hash of the first row of every chain. */
export const GENESIS_HASH = "0".repeat(64);
/** Bumped if the hashed fields ever change; part of every hash so old rows stay verifiable. */
export const HASH_VERSION = 1;

/** The hashed content of a row, with the envelope and reasons already in canonical JSON. */
export interface AuditContent {
  chainKey: string;
  sessionId: string | null;
  messageId: string | null;
  outcome: AuditOutcome;
  agent: string;
  /** Canonical JSON of the reasons array, or "null". */
  reasonsJson: string;
  /** Canonical JSON of the envelope as received. */
  envelopeJson: string;
  /** ISO-8601 UTC with milliseconds: exactly what timestamptz stores and gives back. */
  recordedAt: string;
}

/**
 * sha256 over the canonical JSON of {agent, chain_key, envelope, message_id, outcome, prev_hash,
 * reasons, recorded_at, seq, session_id, v}. Built by concatenation, keys in sorted order, because
 * the envelope is already canonical and re-walking it per flush would double the cost. One string
 * hashed in one call: feeding a Hash object part by part measured no cheaper (the concatenation is
 * not the cost; creating the Hash object is, which sha256Hex's one-shot crypto.hash avoids).
 */
export function rowHash(c: AuditContent, seq: number, prevHash: string): string {
  const s = JSON.stringify;
  return sha256Hex(
    `{"agent":${s(c.agent)},"chain_key":${s(c.chainKey)},"envelope":${c.envelopeJson},"message_id":${s(c.messageId)},` +
      `"outcome":${s(c.outcome)},"prev_hash":${s(prevHash)},"reasons":${c.reasonsJson},"recorded_at":${s(c.recordedAt)},` +
      `"seq":${seq},"session_id":${s(c.sessionId)},"v":${HASH_VERSION}}`,
  );
}

/** Reference form of rowHash, kept for the test that pins the two together. */
export function rowHashReference(c: AuditContent, seq: number, prevHash: string): string {
  return sha256Hex(
    canonicalJson({
      v: HASH_VERSION,
      seq,
      prev_hash: prevHash,
      chain_key: c.chainKey,
      session_id: c.sessionId,
      message_id: c.messageId,
      outcome: c.outcome,
      agent: c.agent,
      reasons: JSON.parse(c.reasonsJson) as unknown,
      envelope: JSON.parse(c.envelopeJson) as unknown,
      recorded_at: c.recordedAt,
    }),
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");
const ID_MAX = 256;

/**
 * A session or message id we can store in an indexed text column and read back unchanged:
 * a string of 1..256 characters without NUL or lone surrogates. Anything else is treated as absent
 * (it is still in the stored envelope).
 */
export function usableId(value: unknown): string | null {
  if (typeof value !== "string" || value.length === 0 || value.length > ID_MAX) return null;
  if (value.includes("\u0000") || LONE_SURROGATE.test(value)) return null;
  return value;
}

/** Runtime-supplied text (agent names, issue messages) made storable: replacement chars, bounded. */
export function storableText(value: string, max = 4000): string {
  // eslint-disable-next-line no-control-regex -- NUL is exactly what Postgres text cannot hold
  return value.replace(/\u0000/g, "\uFFFD").replace(LONE_SURROGATES, "\uFFFD").slice(0, max);
}

export function canonicalReasons(reasons: readonly Issue[] | undefined): string {
  if (reasons === undefined || reasons.length === 0) return "null";
  return canonicalJson(
    reasons.map((r) => ({ pointer: storableText(String(r.pointer)), message: storableText(String(r.message)), rule: storableText(String(r.rule), 64) })),
  );
}

/**
 * jsonb rejects \u0000 and lone surrogates. Canonical JSON writes both as escapes, so a textual
 * check suffices; a false positive (an escaped backslash before "u0000") only routes the envelope to
 * the text column, which stores it just as exactly.
 */
export function jsonbCanHold(json: string): boolean {
  // Nearly every envelope has no escape at all: two substring scans (~0.1 µs) decide; the regex
  // (~0.4 µs on 1.2 KB) only runs when a match is possible.
  if (json.indexOf("\\u") === -1 && json.indexOf("\\U") === -1) return true;
  return !JSONB_UNFIT.test(json);
}

const JSONB_UNFIT = /\\u0000|\\ud[89a-f]/i;
