/**
 * Agent schedules: the tick publishes one envelope per cron slot, none before it, however many
 * runtimes tick on one prefix (the slot is claimed in Redis and its message id derived from it);
 * `agentbus schedules` shows the next runs in the configured zone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { schedulesComponent, type SchedulesComponent } from "../../runtime/schedules/component.ts";
import { lastDueSlot, nextSlots, type AgentScheduleEntry } from "../../runtime/schedules/slots.ts";
import { dropPrefix, openTestRuntime, testConfig, uniquePrefix, type EventLog } from "../helpers/bus.ts";
import { batchAgentsDir } from "../helpers/batch-agents.ts";
import { runCli } from "../helpers/cli.ts";

const ms = (iso: string) => Date.parse(iso);

describe("schedule slots", () => {
  const daily: AgentScheduleEntry = { agent: "memory_agent", abbr: "memory", cron: "0 23 * * *", timezone: "Europe/Paris", content_type: "batch_request", content: { trigger: "schedule" } };

  it("finds the slot in (previous tick, now], in the schedule's zone, and collapses missed slots into the last", () => {
    // 23:00 in Paris is 22:00Z in winter.
    expect(lastDueSlot(daily, ms("2026-03-02T21:59:00Z"), ms("2026-03-02T21:59:59Z"))).toBeNull();
    expect(lastDueSlot(daily, ms("2026-03-02T21:59:59Z"), ms("2026-03-02T22:00:00Z"))).toBe(ms("2026-03-02T22:00:00Z"));
    expect(lastDueSlot(daily, ms("2026-03-02T22:00:00Z"), ms("2026-03-02T22:00:30Z"))).toBeNull();
    expect(lastDueSlot(daily, ms("2026-02-27T12:00:00Z"), ms("2026-03-02T22:00:30Z"))).toBe(ms("2026-03-02T22:00:00Z"));
    // Summer time: 23:00 in Paris is 21:00Z.
    expect(nextSlots(daily, ms("2026-07-01T00:00:00Z"), 2)).toEqual([ms("2026-07-01T21:00:00Z"), ms("2026-07-02T21:00:00Z")]);
  });
});

describe("schedules component (two runtimes on one prefix)", () => {
  const prefix = uniquePrefix("sched");
  const agents = batchAgentsDir();
  const clock = ManualClock.at("2026-03-02T21:58:00.000Z");
  const opened: Array<{ runtime: Runtime; events: EventLog; schedules: SchedulesComponent }> = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const schedules = schedulesComponent({ intervalMs: 0 });
      const config = testConfig(prefix, { agentsDir: agents.dir, timezone: "Europe/Paris" });
      const { runtime, events } = await openTestRuntime(prefix, { config, clock, components: [schedules] });
      opened.push({ runtime, events, schedules });
    }
  });
  afterAll(async () => {
    for (const o of opened) await o.runtime.close();
    await dropPrefix(prefix);
    agents.remove();
  });

  const scheduled = (): Envelope[] =>
    opened.flatMap((o) => o.events.of("published").map((e) => e.envelope as Envelope)).filter((e) => e.agent.name === "batch_scheduler");

  it("sees memory_agent's schedule from its spec", () => {
    expect(opened[0]?.schedules.schedules.map((s) => [s.agent, s.cron, s.timezone])).toEqual([["memory_agent", "0 23 * * *", "Europe/Paris"]]);
  });

  it("publishes nothing before the slot", async () => {
    const [a, b] = opened;
    expect(await a?.schedules.tick(ms("2026-03-02T21:59:30Z"))).toEqual([]);
    expect(await b?.schedules.tick(ms("2026-03-02T21:59:31Z"))).toEqual([]);
    expect(scheduled()).toEqual([]);
  });

  it("publishes the slot exactly once when two runtimes tick it, and not again on the next tick", async () => {
    const [a, b] = opened;
    const runs = (await Promise.all([a?.schedules.tick(ms("2026-03-02T22:00:05Z")), b?.schedules.tick(ms("2026-03-02T22:00:06Z"))])).flat();
    expect(runs).toHaveLength(2);
    expect(runs.filter((r) => r?.published)).toHaveLength(1);
    await a?.schedules.tick(ms("2026-03-02T22:00:35Z"));
    await b?.schedules.tick(ms("2026-03-02T22:00:36Z"));
    const sent = scheduled();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.message_id).toBe("msg-batchscheduler-20260302-230000-memory");
    expect(sent[0]?.metadata).toMatchObject({ session_id: "batch-20260302-2300", request_id: "batch_run", sequence_number: 1 });
    expect(sent[0]?.output).toEqual({ content_type: "batch_request", content: { trigger: "schedule" } });
    expect(sent[0]?.next_agent.name).toBe("memory_agent");
    expect(await opened[0]?.runtime.transport.isQueued(sent[0] as Envelope)).toBe(true);
  });

  it("does not publish a slot again from a runtime that ticks it late (the Redis claim holds)", async () => {
    const late = opened[2];
    const runs = await late?.schedules.tick(ms("2026-03-02T22:10:00Z"));
    expect(runs).toEqual([{ agent: "memory_agent", slot: "2026-03-02T22:00:00.000Z", message_id: "msg-batchscheduler-20260302-230000-memory", published: false }]);
    expect(scheduled()).toHaveLength(1);
  });

  it("publishes the next day's slot", async () => {
    const [a, b] = opened;
    await Promise.all([a?.schedules.tick(ms("2026-03-03T22:00:01Z")), b?.schedules.tick(ms("2026-03-03T22:00:01Z"))]);
    expect(scheduled().map((e) => e.metadata.session_id)).toEqual(["batch-20260302-2300", "batch-20260303-2300"]);
  });
});

describe("agentbus schedules", () => {
  it("prints each scheduled agent's cron and next 3 runs in the configured zone", async () => {
    const json = await runCli(["schedules", "--json"], { AGENTBUS_TIMEZONE: "Asia/Tokyo" });
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { timezone: string; schedules: Array<{ agent: string; cron: string; timezone: string; next_runs: string[] }> };
    expect(out.timezone).toBe("Asia/Tokyo");
    const memory = out.schedules.find((s) => s.agent === "memory_agent");
    expect(memory).toMatchObject({ cron: "0 23 * * *", timezone: "Asia/Tokyo" });
    expect(memory?.next_runs).toHaveLength(3);
    for (const run of memory?.next_runs ?? []) expect(run).toMatch(/T23:00:00\+09:00$/);
    const text = await runCli(["schedules"], { AGENTBUS_TIMEZONE: "America/New_York" });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("memory_agent  0 23 * * *  (America/New_York");
    expect(text.stdout.match(/next \d{4}-\d{2}-\d{2}T23:00:00-0[45]:00/g)).toHaveLength(3);
  });
});
