import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { dropPrefix, openTestRuntime, uniquePrefix, type EventLog } from "../helpers/bus.ts";

const prefix = uniquePrefix("roundtrip");
let runtime: Runtime;
let events: EventLog;

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix));
  runtime.startAgents(["echo_agent", "fanout_agent", "badreply_agent", "flaky_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
});

function request(text: string, to = "echo_agent"): Envelope {
  return buildRequest({ content_type: "user_request", content: { text }, to }, { clock: systemClock, timezone: "Europe/Paris" });
}

const completedFor = (events: EventLog, session: string) =>
  events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === session);

describe("a round trip through a plugin agent on real Redis", () => {
  it("delivers an envelope and routes a valid reply with sequence, parent and audit fields", async () => {
    const req = request("hello");
    const published = await runtime.bus.publish(req);
    expect(published).toEqual({ accepted: true, message_id: req.message_id, queue: "echo_agent" });

    const reply = (await completedFor(events, req.metadata.session_id)).envelope as Envelope;
    expect(runtime.bus.validate(reply).ok).toBe(true);
    expect(reply.agent).toEqual({ name: "echo_agent", type: "operational" });
    expect(reply.output).toEqual({ content_type: "synthesis", content: { answer: "echo: hello", findings: [], contradictions: [], confidence: 1 } });
    expect(reply.input).toEqual({ source: "user", content: { text: "hello" } });
    expect(reply.metadata).toEqual({ session_id: req.metadata.session_id, request_id: req.metadata.request_id, sequence_number: 2, parent_message_id: req.message_id });
    expect(reply.message_id).toMatch(/^msg-echo-\d{8}-\d{6}-[a-z0-9]+$/);
    expect(reply.timestamp.timezone).toBe("UTC");
    expect(reply.audit.governance_files_consulted).toEqual(["test/fixtures/agents/echo_agent/echo_agent.md", "context/application.md", "governance/message_format.md"]);
    expect(reply.audit.reasoning).toBe("echoed the request (attempt 1)");
    expect(reply.error).toEqual({ has_error: false, error_code: null, error_message: null, retry_count: 0, recoverable: false });
  });

  it("numbers fan-out replies uniquely within the session", async () => {
    const req = request("split", "fanout_agent");
    await runtime.bus.publish(req);
    const session = req.metadata.session_id;
    await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).output.content.answer === "echo: split #2");
    await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).output.content.answer === "echo: split #1");
    const inSession = events.events.filter((e) => ["published", "completed"].includes(e.kind) && (e.envelope as Envelope).metadata.session_id === session);
    const seqs = inSession.map((e) => (e.envelope as Envelope).metadata.sequence_number).sort((a, b) => a - b);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it("runs the handler once when the same message is published twice", async () => {
    const req = request("once");
    await runtime.bus.publish(req);
    await runtime.bus.publish(structuredClone(req));
    await completedFor(events, req.metadata.session_id);
    await new Promise((r) => setTimeout(r, 300));
    const deliveries = events.of("delivered").filter((e) => (e.envelope as Envelope).message_id === req.message_id);
    expect(deliveries).toHaveLength(1);
    const completions = events.of("completed").filter((e) => (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);
    expect(completions).toHaveLength(1);
  });
});

describe("replies are validated like any message", () => {
  it("dead-letters a reply whose content breaks its schema, with the worker's name", async () => {
    const req = request("bad content", "badreply_agent");
    await runtime.bus.publish(req);
    const dl = await events.waitFor((e) => e.kind === "dead_lettered" && e.agent === "badreply_agent" && (e.envelope as Envelope).metadata?.parent_message_id === req.message_id);
    expect(dl.issues).toContainEqual({ pointer: "/output/content/answer", message: "must be string", rule: "content" });
    const letters = await runtime.bus.deadLetters.list();
    const letter = letters.find((l) => l.message_id === (dl.envelope as Envelope).message_id);
    expect(letter).toMatchObject({ stage: "reply", agent: "badreply_agent" });
  });

  it("dead-letters a reply on a route the specs forbid", async () => {
    const req = request("forbidden route", "badreply_agent");
    await runtime.bus.publish(req);
    const dl = await events.waitFor((e) => e.kind === "dead_lettered" && (e.envelope as Envelope).metadata?.parent_message_id === req.message_id);
    expect(dl.issues.map((i) => i.message)).toContain("echo_agent does not accept messages from badreply_agent (it accepts: user, fanout_agent)");
  });
});

describe("handler failures", () => {
  it("retries a recoverable failure with backoff and then succeeds", async () => {
    const req = request("recoverable 2", "flaky_agent");
    await runtime.bus.publish(req);
    const done = (await completedFor(events, req.metadata.session_id)).envelope as Envelope;
    expect(done.output.content.answer).toBe("succeeded on attempt 3");
  });

  it("fails fast on a non-recoverable error and dead-letters it with the code", async () => {
    const req = request("fatal", "flaky_agent");
    await runtime.bus.publish(req);
    await events.waitFor((e) => e.kind === "dead_lettered" && (e.envelope as Envelope).message_id === req.message_id);
    const deliveries = events.of("delivered").filter((e) => (e.envelope as Envelope).message_id === req.message_id);
    expect(deliveries).toHaveLength(1);
    const letter = (await runtime.bus.deadLetters.list()).find((l) => l.message_id === req.message_id);
    expect(letter).toMatchObject({ stage: "handler", agent: "flaky_agent", error: { code: "BAD_INPUT" } });
    expect(letter?.error?.message).toContain("non-recoverable");
  });
});
