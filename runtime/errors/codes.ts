/**
 * The runtime's error codes, in one typed list. Each says what it means for an HTTP client (status)
 * and for a script running the CLI (exit code), so both adapters answer the same failure the same
 * way. Codes of the agents' own domain (a capability's HTTP_429, a planner's PLAN_INVALID) are not
 * listed: they travel in envelopes, and the adapters treat them as unexpected (500, exit 1).
 */

export const EXIT = {
  ok: 0,
  /** The thing checked is bad (invalid envelope, rejected message, broken agent folder). */
  failed: 1,
  /** The command was used wrongly or configuration is wrong. */
  usage: 2,
  /** Redis or Postgres could not be reached. */
  unavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface CodeInfo {
  /** HTTP status; 500 means "a bug or an internal failure": the client sees the code only. */
  http: number;
  exit: ExitCode;
}

const internal: CodeInfo = { http: 500, exit: EXIT.failed };
const usage: CodeInfo = { http: 400, exit: EXIT.usage };
const unavailable: CodeInfo = { http: 503, exit: EXIT.unavailable };

export const ERROR_CODES = {
  // Used wrongly: fix the command, the request or the configuration.
  USAGE: usage,
  /** A request body or path the API refuses; from `agentbus submit` it exits 1 as it always did. */
  BAD_REQUEST: { http: 400, exit: EXIT.failed },
  CONFIG_INVALID: { http: 500, exit: EXIT.usage },
  /** A taken port is configuration the user fixes (--port, AGENTBUS_HTTP_PORT), not an outage. */
  PORT_IN_USE: { http: 500, exit: EXIT.usage },
  UNAUTHORIZED: { http: 401, exit: EXIT.usage },
  TOO_LARGE: { http: 413, exit: EXIT.usage },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, exit: EXIT.usage },
  REQUEST_REFUSED: { http: 422, exit: EXIT.failed },
  /** The same Idempotency-Key was sent with another body: a client bug, not a retry. */
  IDEMPOTENCY_KEY_REUSED: { http: 422, exit: EXIT.failed },
  NOT_FOUND: { http: 404, exit: EXIT.failed },
  ALREADY_EXISTS: internal,
  REPLAY_CONFLICT: internal,
  // Infrastructure away: try again later.
  REDIS_UNAVAILABLE: unavailable,
  STORE_UNAVAILABLE: unavailable,
  BINARY_MISSING: { http: 500, exit: EXIT.unavailable },
  AUDIT_BUFFER_FULL: { http: 503, exit: EXIT.failed },
  // Messages and agents.
  ENVELOPE_INVALID: internal,
  ROUTE_FORBIDDEN: internal,
  CONTENT_TYPE_UNKNOWN: internal,
  AGENT_LOAD_FAILED: internal,
  HANDLER_FAILED: internal,
  DEFERRED: internal,
  SESSION_INVALID: internal,
  STATE_LOST: internal,
  WORKFLOW_RECORD_INVALID: internal,
  CAPABILITY_INVALID: internal,
  CAPABILITY_UNKNOWN: internal,
  // LLM.
  LLM_RATE_LIMITED: internal,
  LLM_TIMEOUT: internal,
  LLM_UNAVAILABLE: internal,
  LLM_REJECTED: internal,
  LLM_OUTPUT_INVALID: internal,
  BUDGET_EXCEEDED: internal,
  // Store and audit log.
  STORE_REQUIRED: internal,
  STORE_CLOSED: internal,
  MIGRATION_INVALID: internal,
  MIGRATION_CHECKSUM_MISMATCH: internal,
  AUDIT_WRITER_CLOSED: internal,
  AUDIT_UNFLUSHED: internal,
  AUDIT_EVENT_INVALID: internal,
  AUDIT_TREE_MISSING: internal,
  // Reviewing rules.
  FORBIDDEN: { http: 403, exit: EXIT.failed },
  CSRF_REFUSED: { http: 403, exit: EXIT.failed },
  RATE_LIMITED: { http: 429, exit: EXIT.failed },
  /** The rule changed since the reviewer read it: reload and decide on what is there now. */
  RULE_CHANGED: { http: 409, exit: EXIT.failed },
  /** The decision does not fit the rule's state (e.g. retiring a pending rule). */
  RULE_STATE: { http: 409, exit: EXIT.failed },
  RULE_INVALID: { http: 422, exit: EXIT.failed },
  RULE_PATH_REFUSED: internal,
  RULE_HASH_MISMATCH: internal,
  WEAK_PASSWORD: { http: 400, exit: EXIT.usage },
  ACCOUNT_EXISTS: { http: 409, exit: EXIT.failed },
  AUDIT_REQUIRED: internal,
  // The learning loop's records.
  ID_DAY_INVALID: internal,
  IDS_EXHAUSTED: internal,
  BATCH_NOT_CLAIMED: internal,
  PROPOSAL_INVALID: internal,
  /** A file of records that cannot be read (missing, a directory, no permission): fix the path. */
  FILE_UNREADABLE: { http: 400, exit: EXIT.usage },
  /** A records file read to the end held no valid record: nothing to learn from. */
  NO_VALID_RECORDS: { http: 422, exit: EXIT.failed },
  /** A local chain run (runtime/agents/local-run.ts) met an envelope the bus would refuse. */
  LOCAL_RUN_REFUSED: { http: 500, exit: EXIT.failed },
  /** A local chain run stopped: a handler failed or deferred, or the chain ran past its hop bound. */
  LOCAL_RUN_FAILED: { http: 500, exit: EXIT.failed },
  /** `agentbus learn --now`: the session was dead-lettered or ended without a learning report. */
  LEARN_FAILED: { http: 500, exit: EXIT.failed },
  /** `agentbus learn --now` saw no report within its timeout (the session may still finish). */
  LEARN_TIMEOUT: { http: 504, exit: EXIT.failed },
  AUDIT_CHAIN_HEAD_MISSING: internal,
  AUDIT_ROLLBACK: internal,
  AUDIT_KEY_INVALID: internal,
  AUDIT_KEY_MISSING: internal,
  CHECKPOINT_INVALID: internal,
  CHECKPOINT_SIGNATURE_INVALID: internal,
  // Fetch's refusals (runtime/capabilities/builtin/fetch-guard.ts).
  FETCH_ADDRESS_REFUSED: internal,
  FETCH_SCHEME_REFUSED: internal,
  FETCH_REDIRECT_LOOP: internal,
  FETCH_TOO_MANY_REDIRECTS: internal,
  /** Whatever is not an AgentbusError. */
  INTERNAL: internal,
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The HTTP status for a code; codes not in the list (agents' own) are internal: 500. */
export function httpStatusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].http : 500;
}

/** The CLI's exit code for a code; codes not in the list (agents' own) exit 1. */
export function exitCodeOf(code: string): ExitCode {
  return isErrorCode(code) ? ERROR_CODES[code].exit : EXIT.failed;
}
