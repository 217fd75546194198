/**
 * Postgres or Redis away is not the message's fault: the worker host defers the delivery with a
 * growing delay and no attempt used, however many times; a handler's real bug still uses attempts.
 */
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentHandler } from "../../runtime/agents/handler.ts";
import { OutageMonitor } from "../../runtime/bus/outage.ts";
import { AgentHost } from "../../runtime/agents/host.ts";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { InfrastructureError } from "../../runtime/errors/index.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { translate } from "../../runtime/store/db.ts";
import { dropPrefix, openTestRuntime, uniquePrefix, type EventLog } from "../helpers/bus.ts";

const prefix = uniquePrefix("infradefer");
let runtime: Runtime;
let events: EventLog;
let hosts: AgentHost[] = [];

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix));
});
afterEach(async () => {
  for (const h of hosts) await h.close();
  hosts = [];
});
afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
});

function capture(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  const logger: Logger = pino({ level: "info" }, stream);
  return { logger, lines };
}

/** Hosts flaky_agent's queue with `handler` in place of the fixture's. */
function host(handler: AgentHandler, outages?: OutageMonitor, logger = capture().logger): AgentHost {
  const agent = runtime.agents.get("flaky_agent");
  if (!agent) throw new Error("fixture flaky_agent missing");
  const h = new AgentHost({
    gateway: runtime.bus,
    agent: { ...agent, handler },
    clock: systemClock,
    timezone: "UTC",
    logger,
    outageBackoff: { baseMs: 10, maxMs: 80 },
    ...(outages ? { outages } : {}),
  });
  h.start();
  hosts.push(h);
  return h;
}

const answer = (text: string): ReturnType<AgentHandler> =>
  Promise.resolve({ content_type: "synthesis", content: { answer: text, findings: [], contradictions: [], confidence: 1 }, next_agent: "COMPLETE" });

async function send(text: string): Promise<Envelope> {
  const req = buildRequest({ content_type: "user_request", content: { text }, to: "flaky_agent" }, { clock: systemClock, timezone: "UTC" });
  await runtime.bus.publish(req);
  return req;
}

/** The job once BullMQ has finished with it (the bus event comes a moment before). */
async function settled(id: string, state: "completed" | "failed") {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const queue = runtime.bus.queue("flaky_agent");
    // Read the job again once it is in `state`: a copy read before the move has stale counters.
    if ((await queue.getJobState(id)) === state || Date.now() > deadline) return queue.getJob(id);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const completion = (req: Envelope) => events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id, 20_000);

describe("a delivery that meets an outage", () => {
  it("waits out more failures than it has attempts, using none, and completes", async () => {
    // The errors the store and the bus raise when the server is away, each translated as the store does.
    const outage: Error[] = [
      new InfrastructureError("STORE_UNAVAILABLE", "postgres unreachable: connect ECONNREFUSED 127.0.0.1:5432"),
      translate(new Error("timeout exceeded when trying to connect")) as Error,
      translate(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })) as Error,
      new InfrastructureError("REDIS_UNAVAILABLE", "redis is away"),
      translate(new Error("Connection terminated unexpectedly")) as Error,
      new InfrastructureError("STORE_UNAVAILABLE", "still away"),
    ];
    let calls = 0;
    host(async () => {
      const err = outage[calls++];
      if (err) throw err;
      return answer(`answered after ${calls - 1} outages`);
    });
    const req = await send("outage");
    const done = await completion(req);
    expect((done.envelope as Envelope).output.content).toMatchObject({ answer: "answered after 6 outages" });
    const job = await settled(req.message_id, "completed");
    expect(await job?.getState()).toBe("completed");
    // One attempt used, the one that succeeded: fastTopology gives 3, so six counted failures would have dead-lettered it.
    expect(job?.attemptsMade).toBe(1);
    expect(await runtime.bus.deadLetters.list(100)).toEqual([]);
  });

  it("still uses attempts for a handler's real bug, and dead-letters it after the last", async () => {
    let calls = 0;
    host(() => {
      calls++;
      throw new TypeError("cannot read properties of undefined");
    });
    const req = await send("bug");
    await events.waitFor((e) => e.kind === "dead_lettered" && (e.envelope as Envelope).message_id === req.message_id, 20_000);
    const job = await settled(req.message_id, "failed");
    expect(calls).toBe(3);
    expect(job?.attemptsMade).toBe(3);
    expect(await job?.getState()).toBe("failed");
  });

  it("pauses the worker while the store is down, logs the outage once each way, and resumes when the probe answers", async () => {
    const { logger, lines } = capture();
    let storeUp = false;
    const outages = new OutageMonitor({
      logger,
      backoff: { baseMs: 20, maxMs: 100 },
      probes: { store: () => (storeUp ? Promise.resolve() : Promise.reject(new Error("still down"))) },
    });
    const h = host(async (input) => {
      if (!storeUp) throw new InfrastructureError("STORE_UNAVAILABLE", "postgres unreachable: connect ECONNREFUSED");
      return answer(`done ${String((input.content as { text: string }).text)}`);
    }, outages, logger);
    const reqs = [];
    for (let i = 0; i < 5; i++) reqs.push(await send(`paused ${i}`));
    const deadline = Date.now() + 10_000;
    while (!(h.worker.isPaused() && outages.isDown("store")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.worker.isPaused()).toBe(true);
    expect(outages.status().store).toMatchObject({ available: false, last_error: expect.stringContaining("STORE_UNAVAILABLE") as unknown });

    storeUp = true;
    for (const r of reqs) await completion(r);
    expect(h.worker.isPaused()).toBe(false);
    expect(outages.status().store).toMatchObject({ available: true, outages: 1 });
    for (const r of reqs) expect((await settled(r.message_id, "completed"))?.attemptsMade).toBe(1);
    expect(lines.filter((l) => /Postgres unavailable/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /Postgres is back/.test(l.msg))).toHaveLength(1);
    outages.close();
  });
});
