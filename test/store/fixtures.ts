/** Envelopes for the store tests: realistic good ones, and hostile ones the audit log must still keep. */
export function envelope(sessionId: string, seq: number, agent = "planning_agent", extra: Record<string, unknown> = {}): Record<string, unknown> {
  const n = String(seq).padStart(4, "0");
  return {
    message_id: `msg-pl-20260301-1200${n.slice(-2)}-${sessionId.slice(2, 10)}${n}`,
    timestamp: { executed_at: "2026-03-01T12:00:00.000+01:00", timezone: "Europe/Berlin" },
    agent: { name: agent, type: "operational" },
    input: { source: "user", content: { text: `request ${seq}`, note: "ümlaut ✓ 𝄞" } },
    output: { content: { plan_id: `p-${seq}`, tasks: [{ task_id: "t1", capability: "fetch", inputs: {}, depends_on: [] }], rationale: "r", rules_applied: [] }, content_type: "plan" },
    next_agent: { name: "dispatch_agent", reason: "plan ready" },
    status: { code: "success", message: "ok" },
    error: { has_error: false, error_code: null, error_message: null, retry_count: 0, recoverable: false },
    metadata: { session_id: sessionId, request_id: `r-${sessionId.slice(2)}`, sequence_number: seq, parent_message_id: null },
    resources: { source_refs: [], storage_refs: [], derived_refs: [] },
    audit: { compliance_notes: [], governance_files_consulted: ["context/application.md"], reasoning: "because" },
    ...extra,
  };
}

/** Values that stress storage: NUL and lone surrogates (jsonb refuses both), odd numbers, deep keys. */
export const hostileEnvelopes: unknown[] = [
  { message_id: "msg-x-1", metadata: { session_id: "s-hostile" }, text: "nul \u0000 inside" },
  { message_id: "msg-x-2", metadata: { session_id: "s-hostile" }, text: "lone \ud800 surrogate", ["key_\udc00"]: 1 },
  { metadata: { session_id: "s-hostile", sequence_number: "not a number" }, n: [1e21, 5e-324, -0, 0.1 + 0.2, 2 ** 53 + 2] },
  "not even an object",
  null,
  [1, "two", { three: 3 }],
  { metadata: { session_id: "x".repeat(10_000) } }, // unusable session id: goes to the unsessioned chain
  { metadata: { session_id: "s-\u0000nul" }, message_id: { not: "a string" } },
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c", "": "empty key", "\\\\u0000": "escaped-looking key"}') as unknown,
];
