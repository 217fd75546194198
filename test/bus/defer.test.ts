/** A handler that cannot work yet defers: the message waits and comes back, using none of its attempts. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { dropPrefix, openTestRuntime, uniquePrefix, type EventLog } from "../helpers/bus.ts";

const prefix = uniquePrefix("defer");
let runtime: Runtime;
let events: EventLog;

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix));
  runtime.startAgents(["defer_agent"]);
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
});

describe("deferring a delivery", () => {
  it("re-queues the message more times than it has attempts, and it still completes", async () => {
    // fastTopology gives every job 3 attempts: 6 deferrals would fail it twice over if they counted.
    const req = buildRequest({ content_type: "user_request", content: { text: "defer 6" }, to: "defer_agent" }, { clock: systemClock, timezone: "UTC" });
    await runtime.bus.publish(req);
    const done = await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);
    expect((done.envelope as Envelope).output.content).toMatchObject({ answer: "answered after 6 deferrals" });

    // The bus event comes a moment before BullMQ moves the job: read it once it is completed.
    const queue = runtime.bus.queue("defer_agent");
    const deadline = Date.now() + 10_000;
    while ((await queue.getJobState(req.message_id)) !== "completed" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const job = await queue.getJob(req.message_id);
    expect(await job?.getState()).toBe("completed");
    expect(job?.attemptsMade).toBe(1); // the one that succeeded (BullMQ counts it on completion); no deferral counted
    expect(job?.attemptsStarted).toBe(7);
    expect(events.of("delivered").filter((e) => (e.envelope as Envelope).message_id === req.message_id)).toHaveLength(7);
    expect(await runtime.bus.deadLetters.list(100)).toEqual([]);
  });
});
