/**
 * The frozen envelope fixtures on real Redis: every invalid one is dead-lettered with its reason and
 * never reaches a handler, whether it is published or slipped straight onto an agent's queue; every
 * valid one is accepted and delivered.
 */
import type { Job, Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryOutcome } from "../../runtime/agents/host.ts";
import { COMPLETE, type Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { givesReason, invalidFixtures, messageIdOf, validFixtures } from "../fixtures/envelopes/index.ts";
import { dropPrefix, openTestRuntime, uniquePrefix, type EventLog } from "../helpers/bus.ts";

const prefix = uniquePrefix("invalid-fixtures");
const invalid = invalidFixtures();
const valid = validFixtures();
let runtime: Runtime;
let events: EventLog;

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix));
  // Running workers, so that anything wrongly let through would be handled (and be seen).
  runtime.startAgents(["echo_agent", "fanout_agent", "flaky_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
});

/** Deliveries (the step right before a handler is called) of this message id, by any agent. */
const deliveriesOf = (messageId: string | null) => events.of("delivered").filter((e) => messageId !== null && messageIdOf(e.envelope) === messageId);

/** Waits until a job has been processed and returns what the worker reported. */
async function processed(queue: Queue, jobId: string, timeoutMs = 10_000): Promise<DeliveryOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // State first, then the job: a job read while still active would carry no return value yet.
    const state = await queue.getJobState(jobId);
    if (state === "completed" || state === "failed") {
      const job = (await queue.getJob(jobId)) as Job;
      if (state === "failed") throw new Error(`job ${jobId} failed: ${job.failedReason}`);
      return job.returnvalue as DeliveryOutcome;
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} not processed within ${timeoutMs} ms (state: ${state})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("publishing an invalid fixture", () => {
  it.each(invalid.map((f) => [f.file, f] as const))("%s is refused and dead-lettered with its reason", async (_file, { value, expected }) => {
    const result = await runtime.bus.publish(value);
    expect(result.accepted).toBe(false);
    if (result.accepted) return;
    expect(result.issues.some((i) => givesReason(i, expected))).toBe(true);

    const letter = await runtime.bus.deadLetters.get(result.dead_letter_id);
    expect(letter).toMatchObject({ id: result.dead_letter_id, stage: "send", agent: null, message_id: messageIdOf(value) });
    expect(letter.issues).toEqual(result.issues);
    expect(letter.issues.some((i) => givesReason(i, expected))).toBe(true);
    expect(letter.envelope).toEqual(value);
    expect((await runtime.bus.deadLetters.list(1000)).map((l) => l.id)).toContain(result.dead_letter_id);

    // It never reached a queue: no job under its id on the queue it was addressed to.
    const next = (value as { next_agent?: { name?: unknown } }).next_agent?.name;
    const id = messageIdOf(value);
    if (typeof next === "string" && next !== COMPLETE && id !== null) {
      expect(letter.queue).toBe(next);
      expect(await runtime.bus.queue(next).getJob(id)).toBeUndefined();
    }
  });

  it("none of them reached a handler", async () => {
    await new Promise((r) => setTimeout(r, 200));
    for (const f of invalid) expect(deliveriesOf(messageIdOf(f.value)), f.file).toEqual([]);
    const counts = await runtime.bus.queue("echo_agent").getJobCounts("waiting", "active", "completed", "failed", "delayed");
    expect(counts).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
  });
});

describe("an invalid fixture put straight on an agent's queue, bypassing publish", () => {
  it.each(invalid.map((f) => [f.file, f] as const))("%s is dead-lettered on receive and the handler is not called", async (file, { value, expected }) => {
    const queue = runtime.bus.queue("echo_agent");
    const jobId = `receive-${file.replace(/\.json$/, "")}`;
    await queue.add("smuggled", value, { jobId });

    const outcome = await processed(queue, jobId);
    expect(outcome).toMatchObject({ outcome: "dead_lettered", replies: [], completed: [] });
    expect(outcome.dead_letter_ids).toHaveLength(1);
    const letter = await runtime.bus.deadLetters.get(outcome.dead_letter_ids[0]!);
    expect(letter).toMatchObject({ stage: "receive", agent: "echo_agent", message_id: messageIdOf(value) });
    expect(letter.issues.some((i) => givesReason(i, expected))).toBe(true);
    expect(deliveriesOf(messageIdOf(value))).toEqual([]);
  });

  it("a valid envelope on the wrong agent's queue is dead-lettered on receive too", async () => {
    const env = structuredClone(valid.find((f) => f.file === "user-request-to-echo.json")?.value as Envelope);
    env.message_id = "msg-user-20261121-101501-wrongqueue";
    const queue = runtime.bus.queue("fanout_agent");
    await queue.add("misrouted", env, { jobId: "receive-wrong-queue" });

    const outcome = await processed(queue, "receive-wrong-queue");
    const letter = await runtime.bus.deadLetters.get(outcome.dead_letter_ids[0]!);
    expect(letter).toMatchObject({ stage: "receive", agent: "fanout_agent", message_id: env.message_id });
    expect(letter.issues).toEqual([{ pointer: "/next_agent/name", message: "is addressed to echo_agent but arrived on fanout_agent's queue", rule: "route" }]);
    expect(deliveriesOf(env.message_id)).toEqual([]);
  });
});

describe("publishing a valid fixture", () => {
  it.each(valid.map((f) => [f.file, f.value as Envelope] as const))("%s is accepted and delivered", async (_file, env) => {
    const result = await runtime.bus.publish(env);
    const target = env.next_agent.name === COMPLETE ? null : env.next_agent.name;
    expect(result).toEqual({ accepted: true, message_id: env.message_id, queue: target });
    if (target === null) {
      await events.waitFor((e) => e.kind === "completed" && messageIdOf(e.envelope) === env.message_id);
    } else {
      const delivered = await events.waitFor((e) => e.kind === "delivered" && messageIdOf(e.envelope) === env.message_id);
      expect(delivered.agent).toBe(target);
      // The agent answered it: a reply whose parent is this message.
      await events.waitFor((e) => (e.kind === "published" || e.kind === "completed") && (e.envelope as Envelope).metadata?.parent_message_id === env.message_id);
    }
  });

  it("dead-lettered none of them", async () => {
    const validIds = new Set(valid.map((f) => messageIdOf(f.value)));
    const letters = await runtime.bus.deadLetters.list(1000);
    expect(letters.filter((l) => validIds.has(l.message_id))).toEqual([]);
  });
});
