import { describe, expect, it } from "vitest";
import { loadConfig } from "../../runtime/config/config.ts";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { jobOptionsFor, loadTopology, taskRetryPolicy } from "../../runtime/bus/topology.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import type { AgentSpec } from "../../runtime/envelope/types.ts";

describe("configuration", () => {
  it("has embedded defaults when nothing is set", () => {
    const c = loadConfig({}, { root: "/srv/app" });
    expect(c).toMatchObject({ root: "/srv/app", agentsDir: "/srv/app/agents", dataDir: "/srv/app/data", timezone: "UTC", redisUrl: undefined, databaseUrl: undefined, queuePrefix: "agentbus", maxEnvelopeBytes: 1048576 });
    expect(c.externalSources).toEqual(["user", "batch_scheduler"]);
  });

  it("names the variable that is wrong", () => {
    expect(() => loadConfig({ AGENTBUS_TIMEZONE: "Mars/Olympus" })).toThrow("AGENTBUS_TIMEZONE=Mars/Olympus is not an IANA time zone");
    expect(() => loadConfig({ AGENTBUS_MAX_ENVELOPE_BYTES: "-5" })).toThrow("AGENTBUS_MAX_ENVELOPE_BYTES=-5 must be a positive integer");
    expect(() => loadConfig({ AGENTBUS_QUEUE_PREFIX: "a b" })).toThrow("AGENTBUS_QUEUE_PREFIX=a b may only use");
  });

  it("reads the memory batch threshold: 1000 by default, 0 disables, a negative is refused", () => {
    expect(loadConfig({}).memoryBatchRecords).toBe(1000);
    expect(loadConfig({ AGENTBUS_MEMORY_BATCH_RECORDS: "250" }).memoryBatchRecords).toBe(250);
    expect(loadConfig({ AGENTBUS_MEMORY_BATCH_RECORDS: "0" }).memoryBatchRecords).toBe(0);
    expect(() => loadConfig({ AGENTBUS_MEMORY_BATCH_RECORDS: "-1" })).toThrow("AGENTBUS_MEMORY_BATCH_RECORDS=-1 must be a whole number");
  });

  it("reads the guardrail's interval (0: off) and margins, and names a bad one", () => {
    expect(loadConfig({}).guardrail).toEqual({ intervalS: 300, failureMargin: 0.1, durationMargin: 0.25, minSessions: 20 });
    const c = loadConfig({ AGENTBUS_GUARDRAIL_INTERVAL_S: "0", AGENTBUS_GUARDRAIL_FAILURE_MARGIN: "0.05", AGENTBUS_GUARDRAIL_DURATION_MARGIN: "1.5", AGENTBUS_GUARDRAIL_MIN_SESSIONS: "50" });
    expect(c.guardrail).toEqual({ intervalS: 0, failureMargin: 0.05, durationMargin: 1.5, minSessions: 50 });
    expect(() => loadConfig({ AGENTBUS_GUARDRAIL_INTERVAL_S: "5m" })).toThrow("AGENTBUS_GUARDRAIL_INTERVAL_S=5m must be a whole number");
    expect(() => loadConfig({ AGENTBUS_GUARDRAIL_FAILURE_MARGIN: "10%" })).toThrow("AGENTBUS_GUARDRAIL_FAILURE_MARGIN=10% must be a decimal number from 0 to 1");
    expect(() => loadConfig({ AGENTBUS_GUARDRAIL_FAILURE_MARGIN: "1.5" })).toThrow("from 0 to 1");
    expect(() => loadConfig({ AGENTBUS_GUARDRAIL_DURATION_MARGIN: "-0.1" })).toThrow("AGENTBUS_GUARDRAIL_DURATION_MARGIN=-0.1 must be a decimal number");
    expect(() => loadConfig({ AGENTBUS_GUARDRAIL_MIN_SESSIONS: "0" })).toThrow("AGENTBUS_GUARDRAIL_MIN_SESSIONS=0 must be a positive integer");
  });
});

describe("queue topology", () => {
  const topology = loadTopology(schemaRegistry());
  const spec = (job?: AgentSpec["job"]): AgentSpec => ({ name: "x_agent", type: "operational", accepts: { sources: ["user"], content_types: ["user_request"] }, emits: { content_types: ["synthesis"], next_agents: ["COMPLETE"] }, ...(job ? { job } : {}) });

  it("gives retries with backoff and keeps finished jobs for the de-duplication window", () => {
    expect(jobOptionsFor(topology, spec())).toEqual({
      attempts: 3,
      backoff: { type: "exponential", delay: 1000 },
      removeOnComplete: { age: 86400, count: 100000 },
      removeOnFail: { age: 604800 },
    });
  });

  it("lets an agent's spec override attempts and backoff", () => {
    expect(jobOptionsFor(topology, spec({ attempts: 7, backoff_ms: 50 }))).toMatchObject({ attempts: 7, backoff: { delay: 50 } });
  });

  it("refuses an invalid topology file with the field named", () => {
    expect(() => loadTopology(schemaRegistry(), "/nonexistent/topology.json")).toThrow("cannot read queue topology /nonexistent/topology.json");
  });
});

describe("the task retry policy", () => {
  it("comes from queues/topology.json `task`, with the old hard-coded values as its default", () => {
    const topology = loadTopology(schemaRegistry());
    expect(taskRetryPolicy(topology)).toEqual({ maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 });
    expect(taskRetryPolicy({ ...topology, task: { max_attempts: 5, base_delay_ms: 10, max_delay_ms: 99 } })).toEqual({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 99 });
    const { task: _task, ...without } = topology;
    expect(taskRetryPolicy(without)).toEqual({ maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 });
    expect("schedules" in topology).toBe(false);
  });
});

describe("one place reads the environment", () => {
  it("no runtime module but runtime/config/config.ts reads process.env", () => {
    const root = join(PROJECT_ROOT, "runtime");
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => join(root, f));
    const readers = files.filter((f) => /process\.env\b/.test(readFileSync(f, "utf8"))).map((f) => relative(PROJECT_ROOT, f));
    // Agent logic still under runtime/ (planning, reasoning) moves to agents/; it reads no environment either.
    expect(readers).toEqual(["runtime/config/config.ts"]);
  });
});
