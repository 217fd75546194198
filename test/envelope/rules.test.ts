/**
 * The envelope rules of DESIGN.md §2 and governance/message_format.md, one good and one bad example
 * each; how envelopes are built (ids, zones, the injected clock); and the structural guards.
 */
import { describe, expect, it } from "vitest";
import { buildEnvelope, buildRequest, complianceText, COMPLIANCE_NOTES_MAX, type BuildContext, type EnvelopeDraft } from "../../runtime/envelope/build.ts";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import { checkStructure, MAX_DEPTH } from "../../runtime/envelope/guards.ts";
import { abbreviate, messageId, newRequestId, newSessionId, parseMessageId } from "../../runtime/envelope/ids.ts";
import { COMPLETE, type AgentSpec, type Envelope, type JsonObject } from "../../runtime/envelope/types.ts";
import { validateEnvelope, type RouteBook, type ValidateOptions } from "../../runtime/envelope/validate.ts";
import type { Issue } from "../../runtime/errors/index.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";

const MIB = 1024 * 1024;
const registry = schemaRegistry();

/** A route book held in memory: the specs of two agents and the external sources. */
class MemoryRoutes implements RouteBook {
  private readonly specs: Map<string, AgentSpec>;
  constructor(
    specs: AgentSpec[],
    private readonly external: readonly string[],
  ) {
    this.specs = new Map(specs.map((s) => [s.name, s]));
  }
  spec(name: string): AgentSpec | undefined {
    return this.specs.get(name);
  }
  isExternalSource(name: string): boolean {
    return this.external.includes(name) && !this.specs.has(name);
  }
}

const routes = new MemoryRoutes(
  [
    {
      name: "planning_agent",
      type: "operational",
      accepts: { sources: ["user"], content_types: ["user_request"] },
      emits: { content_types: ["plan"], next_agents: ["dispatch_agent"] },
    },
    {
      name: "dispatch_agent",
      type: "orchestration",
      accepts: { sources: ["planning_agent"], content_types: ["plan", "user_request"] },
      emits: { content_types: ["synthesis"], next_agents: [COMPLETE] },
    },
  ],
  ["user", "batch_scheduler"],
);

const PLAN = {
  plan_id: "p-1",
  tasks: [{ task_id: "t1", capability: "fetch", inputs: { ref: "src_1" }, depends_on: [] }],
  rationale: "fetch the page",
  rules_applied: [],
};
const SYNTHESIS = { answer: "3 mentions", findings: [], contradictions: [], confidence: 0.9 };

const ctx = (iso = "2026-11-21T10:15:02Z", timezone = "UTC"): BuildContext => ({ clock: ManualClock.at(iso), timezone });

/** user → planning_agent, the first message of a session. */
function request(): Envelope {
  return buildRequest({ content_type: "user_request", content: { text: "How often is solar mentioned?" }, to: "planning_agent" }, ctx());
}

type Sender = "planning_agent" | "dispatch_agent";
const SENDERS: Record<Sender, EnvelopeDraft["sender"]> = {
  planning_agent: { name: "planning_agent", type: "operational", abbr: "plan" },
  dispatch_agent: { name: "dispatch_agent", type: "orchestration", abbr: "dispatch" },
};

/** A reply to `parent`: by default planning_agent → dispatch_agent with a plan, sequence 2. */
function reply(
  parent: Envelope,
  over: { from?: Sender; to?: string; content_type?: string; content?: JsonObject; error?: EnvelopeDraft["error"]; status?: EnvelopeDraft["status"] } = {},
): Envelope {
  return buildEnvelope(
    {
      sender: SENDERS[over.from ?? "planning_agent"],
      input: { source: parent.agent.name, content: parent.output.content },
      output: { content_type: over.content_type ?? "plan", content: over.content ?? PLAN },
      next_agent: { name: over.to ?? "dispatch_agent", reason: "next step" },
      metadata: { ...parent.metadata, sequence_number: parent.metadata.sequence_number + 1, parent_message_id: parent.message_id },
      ...(over.error ? { error: over.error } : {}),
      ...(over.status ? { status: over.status } : {}),
    },
    ctx("2026-11-21T10:15:03Z"),
  );
}

/** dispatch_agent → COMPLETE with a synthesis, sequence 3. */
const finalAnswer = (over: Parameters<typeof reply>[1] = {}): Envelope =>
  reply(reply(request()), { from: "dispatch_agent", to: COMPLETE, content_type: "synthesis", content: SYNTHESIS, ...over });

function check(value: unknown, options: Partial<ValidateOptions> = {}) {
  return validateEnvelope(value, { registry, routes, maxBytes: MIB, ...options });
}

/** A copy to break on purpose. */
function broken(env: Envelope, change: (e: Envelope) => void): unknown {
  const copy = structuredClone(env);
  change(copy);
  return copy;
}

/** The same object, for changes the Envelope type would not allow. */
const loose = (e: Envelope): Record<string, unknown> => e;

function expectValid(value: unknown): void {
  const result = check(value);
  expect(result.issues).toEqual([]);
  expect(result.ok).toBe(true);
}

function expectOnly(value: unknown, issue: { pointer: string; message: string | RegExp; rule: Issue["rule"] }, options: Partial<ValidateOptions> = {}): void {
  const result = check(value, options);
  expect(result.ok).toBe(false);
  const message = typeof issue.message === "string" ? expect.stringContaining(issue.message) : expect.stringMatching(issue.message);
  expect(result.issues).toEqual([{ pointer: issue.pointer, message, rule: issue.rule }]);
}

describe("has_error is true exactly when error_code is set and status is not success", () => {
  it("accepts a failure with a code and a status other than success", () => {
    const env = finalAnswer({ error: { code: "HTTP_429", message: "rate limited", recoverable: true, retry_count: 2 } });
    expect(env.status.code).toBe("failed");
    expect(env.error).toEqual({ has_error: true, error_code: "HTTP_429", error_message: "rate limited", retry_count: 2, recoverable: true });
    expectValid(env);
    expectValid(broken(env, (e) => (e.status = { code: "partial", message: "2 of 3 tasks" })));
  });

  it("accepts a success without an error", () => {
    expectValid(finalAnswer());
  });

  it("refuses has_error true without an error_code", () => {
    const env = finalAnswer({ error: { code: "TIMEOUT", message: "slow", recoverable: true } });
    expectOnly(broken(env, (e) => (e.error.error_code = null)), { pointer: "/error/error_code", message: "must be set when has_error is true", rule: "cross_field" });
  });

  it("refuses has_error true with status success", () => {
    const env = finalAnswer({ error: { code: "TIMEOUT", message: "slow", recoverable: true }, status: { code: "success", message: "fine?" } });
    expectOnly(env, { pointer: "/status/code", message: 'must not be "success" when has_error is true', rule: "cross_field" });
  });

  it("refuses an error_code when has_error is false", () => {
    expectOnly(broken(finalAnswer(), (e) => (e.error.error_code = "TIMEOUT")), { pointer: "/error/error_code", message: "must be null when has_error is false", rule: "cross_field" });
  });
});

describe("error_code and error_message are null when there is no error", () => {
  it("accepts a step that was skipped without an error (nulls, has_error false)", () => {
    expectValid(finalAnswer({ status: { code: "skipped", message: "a dependency failed" } }));
  });

  it("refuses an error_message when has_error is false", () => {
    expectOnly(broken(finalAnswer(), (e) => (e.error.error_message = "oops")), { pointer: "/error/error_message", message: "must be null when has_error is false", rule: "cross_field" });
  });
});

describe("content_type must be registered", () => {
  it("registers a content type for every schema in schemas/content/ (DESIGN.md §3)", () => {
    expect(registry.contentTypeNames()).toEqual([
      "action_result",
      "batch_request",
      "dispatch_report",
      "learning_report",
      "memory_summary",
      "plan",
      "synthesis",
      "task",
      "user_request",
      "workflow_record",
    ]);
    expectValid(reply(request()));
  });

  it("refuses a content type that has no schema", () => {
    expectOnly(broken(reply(request()), (e) => (e.output.content_type = "poem")), { pointer: "/output/content_type", message: 'content type "poem" is not registered (known: action_result,', rule: "content" });
  });
});

describe("content must pass the schema of its content type", () => {
  it("accepts a plan that is a plan", () => {
    expectValid(reply(request(), { content: PLAN }));
  });

  it("refuses a plan with a malformed task", () => {
    const bad = { ...PLAN, tasks: [{ task_id: "t1", capability: "Fetch Page", inputs: {}, depends_on: [] }] };
    expectOnly(reply(request(), { content: bad }), { pointer: "/output/content/tasks/0/capability", message: "must match pattern", rule: "content" });
  });

  it("refuses content that fits another type but not the one it declares", () => {
    const result = check(reply(request(), { content: SYNTHESIS }));
    expect(result.ok).toBe(false);
    expect(result.issues).toContainEqual({ pointer: "/output/content/plan_id", message: "is required", rule: "content" });
    expect(result.issues.every((i) => i.rule === "content" && i.pointer.startsWith("/output/content/"))).toBe(true);
  });
});

describe("next_agent.name must be a loaded agent or COMPLETE", () => {
  it("accepts a loaded agent and accepts COMPLETE", () => {
    expectValid(reply(request(), { to: "dispatch_agent" }));
    expectValid(finalAnswer({ to: COMPLETE }));
  });

  it("refuses an agent that is not loaded, on the bus", () => {
    const env = buildRequest({ content_type: "user_request", content: { text: "hi" }, to: "ghost_agent" }, ctx());
    expectOnly(env, { pointer: "/next_agent/name", message: '"ghost_agent" is not a loaded agent (nor COMPLETE)', rule: "route" });
    expectOnly(env, { pointer: "/next_agent/name", message: "is not a loaded agent", rule: "route" }, { unknownAgents: "error" });
  });

  it("only warns about it where `agentbus validate` asks for warnings", () => {
    const env = buildRequest({ content_type: "user_request", content: { text: "hi" }, to: "ghost_agent" }, ctx());
    const result = check(env, { unknownAgents: "warn" });
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([{ pointer: "/next_agent/name", message: expect.stringContaining("ghost_agent"), rule: "route" }]);
  });

  it("refuses an external source as receiver even where unknown agents are warnings: nothing is sent to `user`", () => {
    const env = buildRequest({ content_type: "user_request", content: { text: "hi" }, to: "user" }, ctx());
    expectOnly(env, { pointer: "/next_agent/name", message: '"user" is an external source; nothing can be sent to it', rule: "route" }, { unknownAgents: "warn" });
  });

  it("is not checked without a route book (schema, content and cross-field rules only)", () => {
    const env = buildRequest({ content_type: "user_request", content: { text: "hi" }, to: "ghost_agent" }, ctx());
    expect(validateEnvelope(env, { registry, maxBytes: MIB }).ok).toBe(true);
  });
});

describe("the sender must be allowed to send that content type to that agent", () => {
  it("accepts what the sender's spec emits, to whom it emits", () => {
    expectValid(reply(request(), { from: "planning_agent", to: "dispatch_agent", content_type: "plan", content: PLAN }));
  });

  it("refuses a content type the sender does not emit", () => {
    const env = reply(request(), { content_type: "user_request", content: { text: "forwarded" } });
    expectOnly(env, { pointer: "/output/content_type", message: 'planning_agent may not emit "user_request" (its spec emits: plan)', rule: "route" });
  });

  it("refuses a receiver the sender does not send to", () => {
    expectOnly(reply(request(), { to: COMPLETE }), { pointer: "/next_agent/name", message: "planning_agent may not send to COMPLETE (its spec sends to: dispatch_agent)", rule: "route" });
  });

  it("refuses an agent.type that differs from the sender's spec", () => {
    expectOnly(broken(reply(request()), (e) => (e.agent.type = "orchestration")), { pointer: "/agent/type", message: `must be "operational" as planning_agent's spec declares`, rule: "route" });
  });

  it("refuses a sender that is neither loaded nor an external source (a warning for the CLI)", () => {
    const env = broken(finalAnswer(), (e) => (e.agent = { name: "ghost_agent", type: "operational" }));
    expectOnly(env, { pointer: "/agent/name", message: '"ghost_agent" is neither a loaded agent nor a known external source', rule: "route" });
    expect(check(env, { unknownAgents: "warn" })).toMatchObject({ ok: true, warnings: [{ pointer: "/agent/name", rule: "route" }] });
  });
});

describe("the receiver must accept the sender and the content type", () => {
  it("accepts a user_request from user at planning_agent", () => {
    expectValid(request());
  });

  it("refuses a sender the receiver does not list in accepts.sources", () => {
    const env = buildRequest({ source: "batch_scheduler", content_type: "user_request", content: { text: "nightly" }, to: "planning_agent" }, ctx());
    expectOnly(env, { pointer: "/agent/name", message: "planning_agent does not accept messages from batch_scheduler (it accepts: user)", rule: "route" });
  });

  it("refuses a content type the receiver does not list in accepts.content_types", () => {
    const env = buildRequest({ content_type: "plan", content: PLAN, to: "planning_agent" }, ctx());
    expectOnly(env, { pointer: "/output/content_type", message: 'planning_agent does not accept "plan" (it accepts: user_request)', rule: "route" });
  });
});

describe("an envelope has exactly the top-level fields of DESIGN.md §2", () => {
  const FIELDS = ["agent", "audit", "error", "input", "message_id", "metadata", "next_agent", "output", "resources", "status", "timestamp"];

  it("builds and accepts exactly those fields", () => {
    const env = request();
    expect(Object.keys(env).sort()).toEqual(FIELDS);
    expectValid(env);
  });

  it("refuses an unknown top-level field", () => {
    expectOnly(broken(request(), (e) => (loose(e).priority = "high")), { pointer: "/priority", message: "is not an allowed field", rule: "schema" });
  });

  it("refuses a missing block", () => {
    expectOnly(broken(request(), (e) => delete loose(e).audit), { pointer: "/audit", message: "is required", rule: "schema" });
  });
});

describe("sequence number 1 and a null parent go together, and only together", () => {
  it("accepts the first message with no parent and a later one with its parent", () => {
    const first = request();
    expect(first.metadata).toMatchObject({ sequence_number: 1, parent_message_id: null });
    expectValid(first);
    const second = reply(first);
    expect(second.metadata).toMatchObject({ sequence_number: 2, parent_message_id: first.message_id });
    expectValid(second);
  });

  it("refuses sequence 1 with a parent", () => {
    expectOnly(broken(request(), (e) => (e.metadata.parent_message_id = "msg-user-20261121-101500")), {
      pointer: "/metadata/parent_message_id",
      message: "must be null for the first message of a session (sequence_number 1)",
      rule: "cross_field",
    });
  });

  it("refuses sequence 3 without a parent", () => {
    expectOnly(broken(finalAnswer(), (e) => (e.metadata.parent_message_id = null)), {
      pointer: "/metadata/parent_message_id",
      message: "must name the parent message when sequence_number > 1",
      rule: "cross_field",
    });
  });

  it("refuses a message that is its own parent", () => {
    expectOnly(broken(finalAnswer(), (e) => (e.metadata.parent_message_id = e.message_id)), { pointer: "/metadata/parent_message_id", message: "must not be the message's own id", rule: "cross_field" });
  });

  it("refuses a parent id that names no real time", () => {
    expectOnly(broken(finalAnswer(), (e) => (e.metadata.parent_message_id = "msg-user-20261121-106000")), { pointer: "/metadata/parent_message_id", message: "must name a real date and time", rule: "cross_field" });
  });
});

describe("executed_at carries the offset of its IANA zone at that instant", () => {
  const at = (executed_at: string, timezone: string): unknown => broken(request(), (e) => (e.timestamp = { executed_at, timezone }));

  it("accepts matching offsets, across daylight saving time", () => {
    expectValid(at("2026-11-22T08:30:00.000+09:00", "Asia/Tokyo"));
    expectValid(at("2026-11-21T15:45:01.000+05:30", "Asia/Kolkata"));
    expectValid(at("2026-07-04T12:00:00.000+02:00", "Europe/Berlin"));
    expectValid(at("2026-11-21T12:00:00.000+01:00", "Europe/Berlin"));
    expectValid(at("2026-11-21T10:15:02.000Z", "UTC"));
    expectValid(at("2026-11-21T10:15:02+00:00", "UTC"));
  });

  it("refuses +02:00 in UTC", () => {
    expectOnly(at("2026-11-21T12:15:02.000+02:00", "UTC"), { pointer: "/timestamp/executed_at", message: "offset +02:00 does not match UTC at that instant (+00:00)", rule: "cross_field" });
  });

  it("refuses Berlin's summer offset in November", () => {
    expectOnly(at("2026-11-21T12:00:00.000+02:00", "Europe/Berlin"), { pointer: "/timestamp/executed_at", message: "does not match Europe/Berlin at that instant (+01:00)", rule: "cross_field" });
  });

  it("refuses a time without an offset, a non-date and a zone that does not exist", () => {
    expectOnly(at("2026-11-21T10:15:02.000", "UTC"), { pointer: "/timestamp/executed_at", message: "must be a valid date-time", rule: "schema" });
    expectOnly(at("soon", "UTC"), { pointer: "/timestamp/executed_at", message: "must be a valid date-time", rule: "schema" });
    expectOnly(at("2026-11-21T10:15:02.000Z", "Mars/Olympus"), { pointer: "/timestamp/timezone", message: "must be a valid iana-timezone", rule: "schema" });
  });
});

describe("message ids have the form msg-<abbr>-<YYYYMMDD>-<HHMMSS>[-<suffix>] and name a real time", () => {
  it("accepts the bare form and the suffixed form", () => {
    expectValid(broken(request(), (e) => (e.message_id = "msg-user-20261121-101502")));
    expectValid(broken(request(), (e) => (e.message_id = "msg-user-20261121-101502-k3f9")));
  });

  it("refuses February 30, April 31 and minute 60", () => {
    const real = { pointer: "/message_id", message: "must name a real date and time", rule: "cross_field" } as const;
    expectOnly(broken(request(), (e) => (e.message_id = "msg-user-20260230-101502")), real);
    expectOnly(broken(request(), (e) => (e.message_id = "msg-user-20260431-101502")), real);
    expectOnly(broken(request(), (e) => (e.message_id = "msg-user-20261121-106002")), real);
    expectValid(broken(request(), (e) => (e.message_id = "msg-user-20280229-101502"))); // a leap day
  });

  it("refuses another prefix or an upper-case suffix", () => {
    const pattern = { pointer: "/message_id", message: "must match pattern", rule: "schema" } as const;
    expectOnly(broken(request(), (e) => (e.message_id = "message-user-20261121-101502")), pattern);
    expectOnly(broken(request(), (e) => (e.message_id = "msg-user-20261121-101502-K3F9")), pattern);
  });
});

describe("building envelopes", () => {
  const ID = /^msg-([a-z0-9]{2,16})-(\d{8})-(\d{6})(?:-([a-z0-9]{1,32}))?$/;

  it("renders the id and timestamp in the configured zone: 23:30Z on Nov 21 is 08:30 on Nov 22 in Tokyo", () => {
    const env = buildRequest({ content_type: "user_request", content: { text: "hi" }, to: "planning_agent" }, ctx("2026-11-21T23:30:00Z", "Asia/Tokyo"));
    expect(env.message_id).toMatch(/^msg-user-20261122-083000-[a-z0-9]{10}$/);
    expect(env.timestamp).toEqual({ executed_at: "2026-11-22T08:30:00.000+09:00", timezone: "Asia/Tokyo" });
    expectValid(env);
  });

  it("renders the same instant as the previous evening in New York", () => {
    const env = buildRequest({ content_type: "user_request", content: { text: "hi" }, to: "planning_agent" }, ctx("2026-11-21T23:30:00Z", "America/New_York"));
    expect(env.message_id).toMatch(/^msg-user-20261121-183000-/);
    expect(env.timestamp).toEqual({ executed_at: "2026-11-21T18:30:00.000-05:00", timezone: "America/New_York" });
    expectValid(env);
  });

  it("reads the time from the injected clock only", () => {
    const clock = ManualClock.at("2026-03-29T00:59:59.250Z");
    const build = () => buildRequest({ content_type: "user_request", content: { text: "hi" }, to: "planning_agent" }, { clock, timezone: "Europe/Berlin" });
    const before = build();
    clock.advance(1000); // across the switch to summer time
    const after = build();
    expect(before.timestamp.executed_at).toBe("2026-03-29T01:59:59.250+01:00");
    expect(after.timestamp.executed_at).toBe("2026-03-29T03:00:00.250+02:00");
    expect(before.message_id).toMatch(/^msg-user-20260329-015959-/);
    expect(after.message_id).toMatch(/^msg-user-20260329-030000-/);
    expectValid(before);
    expectValid(after);
  });

  it("starts a session: sequence 1, no parent, sent by an external source", () => {
    const env = request();
    expect(env.agent).toEqual({ name: "user", type: "external" });
    expect(env.input).toEqual({ source: "user", content: null });
    expect(env.next_agent).toEqual({ name: "planning_agent", reason: "new user_request from user" });
    expect(env.metadata).toEqual({ session_id: expect.stringMatching(/^s-[a-z0-9]{16}$/), request_id: expect.stringMatching(/^r-[a-z0-9]{16}$/), sequence_number: 1, parent_message_id: null });
    expect(env.status).toEqual({ code: "success", message: "ok" });
    expect(env.error).toEqual({ has_error: false, error_code: null, error_message: null, retry_count: 0, recoverable: false });
  });

  it("keeps the session and request ids it is given, and abbreviates other sources", () => {
    const env = buildRequest(
      { source: "batch_scheduler", content_type: "user_request", content: { text: "nightly" }, to: "planning_agent", session_id: "s-nightly-1", request_id: "r-nightly-1" },
      ctx(),
    );
    expect(env.metadata).toMatchObject({ session_id: "s-nightly-1", request_id: "r-nightly-1" });
    expect(env.message_id).toMatch(/^msg-batchscheduler-20261121-101502-/);
  });

  it("writes compliance notes as one string, a note a line, as the learning agent spec has them", () => {
    expect(complianceText([])).toBe("");
    expect(complianceText(["schemas checked", "route checked\nagainst specs"])).toBe("schemas checked\nroute checked against specs");
    const env = buildEnvelope(
      {
        sender: SENDERS.dispatch_agent,
        input: { source: "planning_agent", content: PLAN },
        output: { content_type: "synthesis", content: SYNTHESIS },
        next_agent: { name: COMPLETE, reason: "done" },
        metadata: { session_id: "s-1", request_id: "r-1", sequence_number: 3, parent_message_id: "msg-plan-20261121-101503" },
        audit: { compliance_notes: ["a", "b"] },
      },
      ctx("2026-11-21T10:15:09Z"),
    );
    expect(env.audit.compliance_notes).toBe("a\nb");
    expectValid(env);
  });

  it("cuts compliance notes that would pass the schema's limit, never inside a surrogate pair", () => {
    const long = complianceText(["x".repeat(COMPLIANCE_NOTES_MAX - 2) + "😀😀😀"]);
    expect(long.length).toBeLessThanOrEqual(COMPLIANCE_NOTES_MAX);
    expect(long.endsWith("…")).toBe(true);
    expect(long).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it("builds a failure as has_error with status failed, and a reply with a given id keeps it", () => {
    const env = buildEnvelope(
      {
        sender: SENDERS.dispatch_agent,
        input: { source: "planning_agent", content: PLAN },
        output: { content_type: "synthesis", content: SYNTHESIS },
        next_agent: { name: COMPLETE, reason: "done" },
        metadata: { session_id: "s-1", request_id: "r-1", sequence_number: 3, parent_message_id: "msg-plan-20261121-101503" },
        error: { code: "CAPABILITY_UNKNOWN", message: "no such capability", recoverable: false },
        message_id: "msg-dispatch-20261121-101504-redelivered",
      },
      ctx("2026-11-21T10:15:09Z"),
    );
    expect(env.message_id).toBe("msg-dispatch-20261121-101504-redelivered");
    expect(env.status).toEqual({ code: "failed", message: "no such capability" });
    expect(env.error).toEqual({ has_error: true, error_code: "CAPABILITY_UNKNOWN", error_message: "no such capability", retry_count: 0, recoverable: false });
    expect(env.resources).toEqual({ source_refs: [], storage_refs: [], derived_refs: [] });
    expect(env.audit).toEqual({ compliance_notes: "", governance_files_consulted: [], reasoning: "" });
    expectValid(env);
  });

  it("copies the draft's metadata rather than sharing it", () => {
    const metadata = { session_id: "s-1", request_id: "r-1", sequence_number: 2, parent_message_id: "msg-user-20261121-101502" };
    const env = buildEnvelope(
      { sender: SENDERS.planning_agent, input: { source: "user", content: null }, output: { content_type: "plan", content: PLAN }, next_agent: { name: "dispatch_agent", reason: "r" }, metadata },
      ctx(),
    );
    metadata.sequence_number = 99;
    expect(env.metadata.sequence_number).toBe(2);
  });

  it("writes ids that parse back to their parts, with or without a suffix", () => {
    const ms = Date.parse("2026-11-21T23:30:00Z");
    expect(messageId("plan", ms, "Asia/Tokyo", null)).toBe("msg-plan-20261122-083000");
    expect(messageId("plan", ms, "Asia/Tokyo", "k3f9")).toBe("msg-plan-20261122-083000-k3f9");
    const parsed = parseMessageId("msg-plan-20261122-083000-k3f9");
    expect(parsed?.abbr).toBe("plan");
    expect(parsed?.suffix).toBe("k3f9");
    expect(parsed?.at.toFormat("yyyyMMdd-HHmmss")).toBe("20261122-083000");
    expect(parseMessageId("msg-plan-20261122-083000")?.suffix).toBeNull();
    expect(parseMessageId("msg-plan-20261131-083000")).toBeNull();
  });

  it("abbreviates agent names to 2..16 lower-case letters and digits", () => {
    expect(abbreviate("planning_agent")).toBe("planning");
    expect(abbreviate("echo_agent")).toBe("echo");
    expect(abbreviate("x_agent")).toMatch(/^[a-z0-9]{2,16}$/);
    expect(abbreviate("a_very_long_agent_name_indeed")).toMatch(/^[a-z0-9]{2,16}$/);
  });

  it("gives 100 000 messages from one agent in the same second 100 000 different ids", () => {
    const ms = Date.parse("2026-11-21T10:15:02.417Z");
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) ids.add(messageId("plan", ms, "Europe/Berlin"));
    expect(ids.size).toBe(100_000);
    for (const id of ids) {
      const m = ID.exec(id);
      expect(m?.slice(1, 4)).toEqual(["plan", "20261121", "111502"]);
    }
  });

  it("gives sessions and requests ids the schema accepts, all different", () => {
    const sessions = new Set(Array.from({ length: 10_000 }, () => newSessionId()));
    const requests = new Set(Array.from({ length: 10_000 }, () => newRequestId()));
    expect(sessions.size).toBe(10_000);
    expect(requests.size).toBe(10_000);
    expect([...sessions].every((s) => /^s-[A-Za-z0-9_-]{1,64}$/.test(s))).toBe(true);
    expect([...requests].every((r) => /^r-[A-Za-z0-9_-]{1,64}$/.test(r))).toBe(true);
  });
});

describe("structural guards run before the schema", () => {
  /** n levels of objects: nest(1) is {}, nest(2) is {a: {}}. Built without recursion. */
  function nest(levels: number): Record<string, unknown> {
    let v: Record<string, unknown> = {};
    for (let i = 1; i < levels; i++) v = { a: v };
    return v;
  }

  it("refuses __proto__, constructor and prototype keys at any depth, with their pointers", () => {
    const value = JSON.parse('{"a": {"__proto__": {"x": 1}}, "list": [{"constructor": {}}], "b~c/d": {"prototype": 1}}') as unknown;
    expect(Object.hasOwn((value as { a: object }).a, "__proto__")).toBe(true);
    const issues = checkStructure(value, { maxBytes: MIB });
    expect(issues.map((i) => i.pointer).sort()).toEqual(["/a/__proto__", "/b~0c~1d/prototype", "/list/0/constructor"]);
    expect(issues.every((i) => i.rule === "guard" && /^key "(__proto__|constructor|prototype)" is forbidden/.test(i.message))).toBe(true);
  });

  it("accepts keys that merely contain those words", () => {
    expect(checkStructure({ constructor_name: 1, proto: 2, prototypes: [3], __proto: 4 }, { maxBytes: MIB })).toEqual([]);
  });

  it("stops a forbidden key before the schema sees it, and reports only that", () => {
    const text = JSON.stringify(request()).replace('"content":{"text"', '"content":{"__proto__":{"admin":true},"text"');
    expectOnly(JSON.parse(text), { pointer: "/output/content/__proto__", message: 'key "__proto__" is forbidden', rule: "guard" });
  });

  it(`accepts ${MAX_DEPTH} levels of nesting and refuses ${MAX_DEPTH + 1}, in objects and arrays alike`, () => {
    expect(MAX_DEPTH).toBe(32);
    expect(checkStructure(nest(32), { maxBytes: MIB })).toEqual([]);
    expect(checkStructure(nest(33), { maxBytes: MIB })).toEqual([{ pointer: "/a".repeat(32), message: "nesting is deeper than 32 levels", rule: "guard" }]);
    let arrays: unknown[] = [];
    for (let i = 1; i < 33; i++) arrays = [arrays];
    expect(checkStructure({ x: arrays }, { maxBytes: MIB })).toEqual([{ pointer: `/x${"/0".repeat(31)}`, message: "nesting is deeper than 32 levels", rule: "guard" }]);
  });

  it("survives 100 000 levels of nesting without overflowing the stack", () => {
    expect(checkStructure(nest(100_000), { maxBytes: MIB })).toHaveLength(1);
  });

  it("measures size as the UTF-8 bytes of compact JSON, exactly", () => {
    const samples: unknown[] = [
      { ascii: "hello", n: 42, f: -1.5e-300, t: true, f2: false, z: null, empty: {}, list: [] },
      { accents: "é".repeat(10), cjk: "語語語", emoji: "😀 🚀", mixed: ["à", 1, [2, { "ключ": "значение" }]] },
      { quotes: 'say "hi" \\ bye', controls: "a\nb\tc\u0001d\u001f\b\f\r", pair: "x\ud83d\ude00y" },
      { list: [1, 2, 3, "four", { five: [6] }, [[]], 0.1 + 0.2, 1e21, -0] },
    ];
    for (const value of samples) {
      const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
      expect(checkStructure(value, { maxBytes: bytes }), JSON.stringify(value)).toEqual([]);
      expect(checkStructure(value, { maxBytes: bytes - 1 }), JSON.stringify(value)).toEqual([{ pointer: "", message: `envelope is larger than ${bytes - 1} bytes`, rule: "guard" }]);
    }
  });

  it("still counts the escaped size of text it refuses (a lone surrogate is written as \\udxxx)", () => {
    const value = { lone: "x\ud800y\udc00z" };
    const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
    expect(checkStructure(value, { maxBytes: bytes }).map((i) => i.message)).toEqual([expect.stringContaining("lone surrogate (U+D800) at offset 1")]);
    expect(checkStructure(value, { maxBytes: bytes - 1 }).map((i) => i.message)).toContain(`envelope is larger than ${bytes - 1} bytes`);
  });

  it("refuses NUL and lone surrogates in every string value and every key, with the pointer and offset", () => {
    const value = {
      text: "What is 2+2? \u0000",
      nested: { list: ["fine", "high \ud800 alone"] },
      low: "\udc00 first",
      "bad\u0000key": 1,
      "a/b": { "lone\udbff": true },
    };
    const issues = checkStructure(value, { maxBytes: MIB });
    expect(issues.every((i) => i.rule === "guard")).toBe(true);
    const byPointer = Object.fromEntries(issues.map((i) => [i.pointer, i.message]));
    expect(Object.keys(byPointer).sort()).toEqual(["/a~1b/lone\udbff", "/bad\u0000key", "/low", "/nested/list/1", "/text"].sort());
    expect(byPointer["/text"]).toBe("contains a NUL character (U+0000) at offset 13; remove it or send the text as valid UTF-8");
    expect(byPointer["/nested/list/1"]).toContain("lone surrogate (U+D800) at offset 5");
    expect(byPointer["/low"]).toContain("lone surrogate (U+DC00) at offset 0");
    expect(byPointer["/bad\u0000key"]).toMatch(/^key contains a NUL character \(U\+0000\) at offset 3/);
    expect(byPointer["/a~1b/lone\udbff"]).toMatch(/^key contains a lone surrogate \(U\+DBFF\)/);
  });

  it("accepts paired surrogates (emoji), escapes and control characters other than NUL", () => {
    expect(checkStructure({ emoji: "😀 🚀 \ud83d\ude00", controls: "a\u0001\u001f\n\t", "😀": "key", quote: '"\\' }, { maxBytes: MIB })).toEqual([]);
  });

  it("accepts an envelope of exactly 1 MiB and refuses one byte more, counted in UTF-8 bytes", () => {
    const sized = (body: string): Envelope => {
      const env = reply(request());
      env.input.content = { body };
      return env;
    };
    const base = Buffer.byteLength(JSON.stringify(sized("")), "utf8");
    const room = MIB - base;
    const exact = sized("é".repeat(Math.floor(room / 2)) + "a".repeat(room % 2));
    expect(Buffer.byteLength(JSON.stringify(exact), "utf8")).toBe(MIB);
    expect(JSON.stringify(exact).length).toBeLessThan(MIB * 0.6);
    expectValid(exact);
    const over = sized(`${(exact.input.content as { body: string }).body}a`);
    expectOnly(over, { pointer: "", message: `envelope is larger than ${MIB} bytes`, rule: "guard" });
  });

  it("refuses anything but a JSON object", () => {
    for (const value of [null, [], "msg", 42, [request()]]) {
      expectOnly(value, { pointer: "", message: "envelope must be a JSON object", rule: "guard" });
    }
  });
});
