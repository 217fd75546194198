/**
 * The delivery pipeline's extension point: an interceptor registered by a component sees every
 * delivery — handled, dead-lettered on receive, deferred, retried, failed — with its duration and
 * outcome, after it ended; and its LLM and capability hooks wrap each call a handler makes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime, RuntimeComponent } from "../../runtime/runtime.ts";
import { observeDeliveries, type CapabilityCall, type DeliveryInterceptor, type DeliveryObservation, type LlmCall } from "../../runtime/agents/delivery/index.ts";
import { callHooks, hookCapabilities, hookLlm } from "../../runtime/agents/delivery/hooks.ts";
import type { Capability } from "../../runtime/capabilities/types.ts";
import type { LlmClient } from "../../runtime/llm/types.ts";
import { dropPrefix, openTestRuntime, uniquePrefix, type EventLog } from "../helpers/bus.ts";

const prefix = uniquePrefix("intercept");
const seen: DeliveryObservation[] = [];
let runtime: Runtime;
let events: EventLog;
let started = 0;
let closed = 0;

const contexts: Array<{ registry: unknown; retryPolicy: unknown }> = [];
const metrics: RuntimeComponent = {
  name: "metrics",
  start: () => void (started += 1),
  close: () => void (closed += 1),
  interceptors: () => [
    observeDeliveries("metrics", (o) => seen.push(o)),
    {
      name: "context-probe",
      async intercept(ctx, next) {
        const result = await next();
        if (ctx.context) contexts.push({ registry: ctx.context.registry, retryPolicy: ctx.context.retryPolicy });
        return result;
      },
    },
  ],
};

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix, { components: [metrics] }));
  runtime.startAgents(["echo_agent", "defer_agent", "flaky_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  expect(closed).toBe(1);
  await dropPrefix(prefix);
});

function request(text: string, to: string): Envelope {
  return buildRequest({ content_type: "user_request", content: { text }, to }, { clock: systemClock, timezone: "UTC" });
}

async function observed(messageId: string, count: number): Promise<DeliveryObservation[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const mine = seen.filter((o) => o.message_id === messageId);
    if (mine.length >= count || Date.now() > deadline) return mine;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("an interceptor registered by a component", () => {
  it("was started with the runtime", () => {
    expect(started).toBe(1);
  });

  it("sees a handled delivery with its agent, outcome and duration", async () => {
    const req = request("hello", "echo_agent");
    await runtime.bus.publish(req);
    const [o] = await observed(req.message_id, 1);
    expect(o).toMatchObject({ agent: "echo_agent", message_id: req.message_id, session_id: req.metadata.session_id, outcome: "handled", attempt: 1, code: null });
    expect(o?.duration_ms).toBeGreaterThan(0);
    // It is told after the delivery ended: the reply was already recorded as completed.
    expect(events.of("completed").some((e) => (e.envelope as Envelope).metadata.parent_message_id === req.message_id)).toBe(true);
  });

  it("sees each deferral, then the delivery that went through", async () => {
    const req = request("defer 2", "defer_agent");
    await runtime.bus.publish(req);
    const all = await observed(req.message_id, 3);
    expect(all.map((o) => o.outcome)).toEqual(["deferred", "deferred", "handled"]);
    expect(all.map((o) => o.attempt)).toEqual([1, 2, 3]);
  });

  it("sees retries with their code, and the final failure", async () => {
    const retried = request("recoverable 1", "flaky_agent");
    const fatal = request("fatal", "flaky_agent");
    await runtime.bus.publish(retried);
    await runtime.bus.publish(fatal);
    expect((await observed(retried.message_id, 2)).map((o) => [o.outcome, o.code])).toEqual([["retry", "UPSTREAM_BUSY"], ["handled", null]]);
    expect((await observed(fatal.message_id, 1)).map((o) => [o.outcome, o.code])).toEqual([["failed", "BAD_INPUT"]]);
  });

  it("sees a message dead-lettered on receive (it never reached the handler)", async () => {
    const bad = { ...request("misrouted", "echo_agent"), next_agent: { name: "flaky_agent", reason: "wrong queue" } };
    await runtime.bus.queue("echo_agent").add("user_request", bad, { jobId: bad.message_id });
    const [o] = await observed(bad.message_id, 1);
    expect(o).toMatchObject({ agent: "echo_agent", outcome: "dead_lettered", session_id: null });
  });

  it("sees the handler's context: the runtime's registry and the topology's task retry policy", () => {
    expect(contexts.length).toBeGreaterThan(0);
    for (const c of contexts) {
      expect(c.registry).toBe(runtime.registry);
      expect(c.retryPolicy).toEqual({ maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 });
    }
  });

  it("is told of every delivery the hosts made, and nothing else", () => {
    const delivered = events.of("delivered").length;
    const deadOnReceive = seen.filter((o) => o.outcome === "dead_lettered").length;
    expect(seen.length).toBe(delivered + deadOnReceive);
    expect(seen.every((o) => o.duration_ms >= 0)).toBe(true);
  });
});

describe("LLM and capability hooks", () => {
  const message = request("x", "echo_agent");
  const calls: string[] = [];
  const tracing: DeliveryInterceptor = {
    name: "tracing",
    async llm(call: LlmCall, next) {
      calls.push(`llm ${call.method} ${call.content_type ?? "-"} ${call.message_id === message.message_id}`);
      return next();
    },
    async capability(call: CapabilityCall, next) {
      calls.push(`cap ${call.capability} ${JSON.stringify(call.input)}`);
      const out = await next();
      return { ...out, traced: true };
    },
  };
  const budget: DeliveryInterceptor = {
    name: "budget",
    llm: (call, next) => (call.method === "text" ? Promise.reject(new Error("over budget")) : next()),
  };

  it("wrap each call, first listed outermost, and can refuse one", async () => {
    const llm: LlmClient = { provider: "openai", model: "m", text: () => Promise.resolve("t"), json: <T>() => Promise.resolve({ ok: 1 } as T) };
    const hooked = hookLlm(llm, callHooks([tracing, budget]), "echo_agent", message);
    await expect(hooked?.text({ prompt: "p" })).rejects.toThrow("over budget");
    expect(await hooked?.json({ prompt: "p", contentType: "synthesis" })).toEqual({ ok: 1 });
    expect(calls).toEqual(["llm text - true", "llm json synthesis true"]);

    const cap = { name: "echo", description: "", consumes: {}, produces: {}, inputSchema: {}, outputSchema: {}, lanes: { max: 2 }, execute: (input: Record<string, unknown>) => Promise.resolve({ got: input }) } as Capability;
    const catalog = hookCapabilities({ get: (n) => (n === "echo" ? cap : undefined), list: () => [cap] }, callHooks([tracing]), "echo_agent", message);
    const wrapped = catalog.get("echo");
    expect(wrapped?.lanes).toEqual({ max: 2 });
    expect(await wrapped?.execute({ a: 1 }, {} as never)).toEqual({ got: { a: 1 }, traced: true });
    expect(calls.at(-1)).toBe('cap echo {"a":1}');
  });

  it("leave ctx.llm and the catalog as they are when no interceptor hooks them", () => {
    const llm: LlmClient = { provider: "openai", model: "m", text: () => Promise.resolve(""), json: <T>() => Promise.resolve({} as T) };
    const catalog = { get: () => undefined, list: () => [] };
    expect(hookLlm(llm, callHooks([]), "a", message)).toBe(llm);
    expect(hookCapabilities(catalog, callHooks([]), "a", message)).toBe(catalog);
  });
});
