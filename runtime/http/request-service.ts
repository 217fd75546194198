/**
 * The framework-free core of the HTTP API (and of `agentbus submit`): take a request, report on a
 * session, follow a session's hops. The Express adapter (app.ts) only maps HTTP onto this.
 */
import { AgentbusError, InfrastructureError, NotFoundError, type Issue } from "../errors/index.ts";
import type { Gateway } from "../agents/gateway.ts";
import { buildRequest } from "../envelope/build.ts";
import { checkStructure } from "../envelope/guards.ts";
import type { Clock } from "../envelope/clock.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import type { Db } from "../store/db.ts";
import { getSession, getTrace, getTraceAfter, upsertSession, type TraceEntry } from "../store/sessions.ts";
import { getWorkflowRecord } from "../store/workflow-records.ts";
import { IdempotencyKeys } from "./idempotency.ts";

export interface RequestServiceOptions {
  bus: Gateway;
  db: Db;
  registry: SchemaRegistry;
  clock: Clock;
  timezone: string;
  /** The agent that receives new requests (default planning_agent). */
  entryAgent: string;
  /**
   * How long a new request waits for the store before the client is told 503 (default 5 s): a
   * connection into a blackholed Postgres would otherwise hang until the statement timeout.
   */
  storeDeadlineMs?: number;
}

export interface SubmitOptions {
  /** The client's key for this request: a retry with the same key returns the same session. */
  idempotencyKey?: string;
}

export interface Submitted {
  session_id: string;
  request_id: string;
  message_id: string;
  /** True when an idempotency key named a request that was already submitted. */
  replayed?: true;
}

/** One hop of a session, as the API and `submit --wait` show it. */
export interface HopEvent {
  id: string;
  seq: number | null;
  event: TraceEntry["outcome"];
  from: string | null;
  to: string | null;
  agent: string;
  content_type: string | null;
  status: string | null;
  error_code: string | null;
  reasons: Issue[] | null;
  at: string;
}

export interface SessionView {
  session_id: string;
  request_id: string | null;
  status: string;
  started_at: string;
  finished_at: string | null;
  answer: unknown;
  error: unknown;
  tokens_used: number;
  trace: HopEvent[];
}

export class RequestService {
  private readonly keys: IdempotencyKeys;

  constructor(private readonly options: RequestServiceOptions) {
    this.keys = new IdempotencyKeys(options.bus.connection, options.bus.prefix);
  }

  /**
   * Validates the body as a user_request and publishes it to the entry agent. With an idempotency
   * key, a retry (after a 503, a timeout, a dropped connection) returns the first try's session.
   */
  async submit(body: unknown, requester = "api", options: SubmitOptions = {}): Promise<Submitted> {
    const content = this.userRequest(body, requester);
    let env = buildRequest({ content_type: "user_request", content, to: this.options.entryAgent, reason: "new request" }, { clock: this.options.clock, timezone: this.options.timezone });
    let replayed = false;
    if (options.idempotencyKey !== undefined) ({ envelope: env, replayed } = await this.keys.claim(requester, options.idempotencyKey, body, env));
    const result = await this.options.bus.publish(env, requester);
    if (!result.accepted) throw new AgentbusError("REQUEST_REFUSED", "the request was refused by the bus", { issues: result.issues });
    // The audit log (and the session projection) is written in batches; make the session visible
    // now, so a client that asks right after this returns finds it.
    const session = { sessionId: env.metadata.session_id, requestId: env.metadata.request_id, startedAt: new Date(Date.parse(env.timestamp.executed_at)) };
    await withDeadline(upsertSession(this.options.db, session), this.options.storeDeadlineMs ?? 5000);
    return { session_id: env.metadata.session_id, request_id: env.metadata.request_id, message_id: env.message_id, ...(replayed ? { replayed: true as const } : {}) };
  }

  /** The session's workflow record (written by the memory agent once the session is done), or null. */
  async workflowRecord(sessionId: string): Promise<Record<string, unknown> | null> {
    return getWorkflowRecord(this.options.db, sessionId);
  }

  async session(sessionId: string): Promise<SessionView> {
    const [session, trace] = await Promise.all([getSession(this.options.db, sessionId), getTrace(this.options.db, sessionId)]);
    if (!session) throw new NotFoundError(`session ${sessionId}`);
    return {
      session_id: session.sessionId,
      request_id: session.requestId,
      status: session.status,
      started_at: session.startedAt.toISOString(),
      finished_at: session.finishedAt?.toISOString() ?? null,
      answer: session.answer,
      error: session.error,
      tokens_used: session.tokensUsed,
      trace: trace.map(toHop),
    };
  }

  /**
   * Follows a session: yields each hop once, in the order it was recorded, until the session has
   * finished and everything recorded before that has been yielded, or until `signal` aborts.
   */
  async *follow(sessionId: string, options: { signal?: AbortSignal; pollMs?: number } = {}): AsyncGenerator<HopEvent> {
    const pollMs = options.pollMs ?? 200;
    let last = "0";
    for (;;) {
      if (options.signal?.aborted) return;
      const session = await getSession(this.options.db, sessionId);
      const rows = await getTraceAfter(this.options.db, sessionId, last);
      for (const row of rows) {
        last = row.id;
        yield toHop(row);
      }
      if (session?.finishedAt && rows.length === 0) return;
      if (rows.length === 0) await sleep(pollMs, options.signal);
    }
  }

  private userRequest(body: unknown, requester: string): Record<string, unknown> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new AgentbusError("BAD_REQUEST", "the body must be a JSON object with at least a `text` field", { issues: [{ pointer: "", message: "must be an object", rule: "schema" }] });
    }
    // The bus's structural guard, run on the body itself so that issues point into what the client
    // sent (/text, not /output/content/text) and deep or NUL-laden bodies never reach the schema.
    // The size limit is the transport's (the HTTP body limit); the bus checks the envelope's again.
    const guard = checkStructure(body, { maxBytes: Number.POSITIVE_INFINITY });
    if (guard.length > 0) throw new AgentbusError("BAD_REQUEST", `the request is invalid: ${guard.map((i) => `${i.pointer || "/"} ${i.message}`).join("; ")}`, { issues: guard });
    const content: Record<string, unknown> = { requester, ...(body as Record<string, unknown>) };
    const { registry } = this.options;
    const id = registry.contentSchemaId("user_request");
    if (!id) throw new AgentbusError("CONFIG_INVALID", "no user_request schema is registered");
    const issues = registry.check(id, content, "", "schema");
    if (issues.length > 0) throw new AgentbusError("BAD_REQUEST", `the request is invalid: ${issues.map((i) => `${i.pointer || "/"} ${i.message}`).join("; ")}`, { issues });
    return content;
  }
}

/** The store's answer, or STORE_UNAVAILABLE once `ms` have passed (the query itself runs on). */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InfrastructureError("STORE_UNAVAILABLE", `the system of record did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    // A late failure of the abandoned query must not surface as an unhandled rejection.
    work.catch(() => undefined);
  }
}

function toHop(e: TraceEntry): HopEvent {
  const env = (e.envelope ?? {}) as {
    agent?: { name?: string };
    next_agent?: { name?: string };
    output?: { content_type?: string };
    status?: { code?: string };
    error?: { error_code?: string | null };
  };
  return {
    id: e.id,
    seq: e.sequenceNumber,
    event: e.outcome,
    from: env.agent?.name ?? null,
    to: env.next_agent?.name ?? null,
    agent: e.agent,
    content_type: env.output?.content_type ?? null,
    status: env.status?.code ?? null,
    error_code: env.error?.error_code ?? null,
    reasons: e.reasons,
    at: e.recordedAt.toISOString(),
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
