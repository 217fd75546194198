import { describe, expect, it } from "vitest";
import { loadConfig } from "../../runtime/config/config.ts";
import { jobOptionsFor, loadTopology } from "../../runtime/bus/topology.ts";
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
