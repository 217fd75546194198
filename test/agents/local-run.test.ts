/**
 * The local chain runner over the fixture agents: envelopes validated as the gateway validates
 * them, replies built by the delivery pipeline's own construction (the same envelope the bus sends,
 * checked against a real worker on Redis), sequence numbers per session, and a clear error naming
 * the agent for a refused reply, a failing or deferring handler and a chain past its hop bound.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAgents, type AgentRegistry } from "../../runtime/agents/loader.ts";
import { runLocally, type LocalRunOptions } from "../../runtime/agents/local-run.ts";
import { createServices } from "../../runtime/agents/services.ts";
import { taskRetryPolicy, loadTopology } from "../../runtime/bus/topology.ts";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { AgentbusError } from "../../runtime/errors/index.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { ENVELOPE_SCHEMA_ID, schemaRegistry } from "../../runtime/schemas/registry.ts";
import { openAgentTest, type AgentTest } from "../../runtime/testing.ts";
import { FIXTURE_AGENTS } from "../helpers/bus.ts";

const registry = schemaRegistry();
const clock = ManualClock.at("2026-03-02T10:00:00.000Z");
let agents: AgentRegistry;

beforeAll(async () => {
  agents = await loadAgents({ agentsDir: FIXTURE_AGENTS, root: PROJECT_ROOT, registry, externalSources: ["user", "batch_scheduler"] });
});

function options(extra: Partial<LocalRunOptions> = {}): LocalRunOptions {
  return {
    agents,
    registry,
    services: createServices({}),
    clock,
    timezone: "Europe/Paris",
    maxEnvelopeBytes: 1024 * 1024,
    retryPolicy: taskRetryPolicy(loadTopology(registry)),
    logger: silentLogger(),
    ...extra,
  };
}

function request(to: string, text: string): Envelope {
  return buildRequest({ content_type: "user_request", content: { text }, to }, { clock, timezone: "Europe/Paris" });
}

async function refusal(first: unknown, extra: Partial<LocalRunOptions> = {}): Promise<AgentbusError> {
  const err = await runLocally(first, options(extra)).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentbusError);
  return err as AgentbusError;
}

describe("runLocally", () => {
  it("runs fan-out to COMPLETE: every envelope valid, parents linked, sequence numbers per session", async () => {
    const first = request("fanout_agent", "hi");
    const seen: string[] = [];
    const run = await runLocally(first, options({ onEnvelope: (e) => seen.push(e.message_id) }));
    expect(run.map((e) => `${e.agent.name}>${e.next_agent.name}`)).toEqual(["user>fanout_agent", "fanout_agent>echo_agent", "fanout_agent>echo_agent", "echo_agent>COMPLETE", "echo_agent>COMPLETE"]);
    expect(seen).toEqual(run.map((e) => e.message_id));
    expect(run.map((e) => e.metadata.sequence_number)).toEqual([1, 2, 3, 4, 5]);
    expect(run[3]!.metadata.parent_message_id).toBe(run[1]!.message_id);
    expect(run[4]!.metadata.parent_message_id).toBe(run[2]!.message_id);
    expect(new Set(run.map((e) => e.message_id)).size).toBe(5);
    for (const e of run) expect(registry.check(ENVELOPE_SCHEMA_ID, e)).toEqual([]);
    expect(run[3]!.output.content).toMatchObject({ answer: "echo: hi #1" });
    expect(run[3]!.audit.governance_files_consulted).toEqual(["test/fixtures/agents/echo_agent/echo_agent.md", "context/application.md", "governance/message_format.md"]);
    expect(run[3]!.message_id).toMatch(/^msg-echo-20260302-110000-/); // minted locally, in the configured zone
  });

  it("refuses a first envelope the bus would refuse, with every reason", async () => {
    const err = await refusal({ ...request("echo_agent", "hi"), next_agent: { name: "nobody_agent", reason: "x" } });
    expect(err.code).toBe("LOCAL_RUN_REFUSED");
    expect(err.message).toContain("the first envelope is refused");
    expect(err.issues).toContainEqual(expect.objectContaining({ pointer: "/next_agent/name", rule: "route" }));
  });

  it("names the agent whose reply breaks its content schema, and the pointer", async () => {
    const err = await refusal(request("badreply_agent", "bad content"));
    expect(err.code).toBe("LOCAL_RUN_REFUSED");
    expect(err.message).toContain("badreply_agent's reply (synthesis → COMPLETE) is refused");
    expect(err.issues.map((i) => i.pointer)).toContain("/output/content/answer");
  });

  it("names the agent whose reply takes a route the specs forbid", async () => {
    const err = await refusal(request("badreply_agent", "forbidden route"));
    expect(err.message).toContain("badreply_agent's reply (plan → echo_agent) is refused");
    expect(err.issues).toContainEqual(expect.objectContaining({ pointer: "/output/content_type", rule: "route" }));
  });

  it("stops at a failing handler with its agent and code, and at a deferral (a local run does not wait)", async () => {
    const fatal = await refusal(request("flaky_agent", "fatal"));
    expect(fatal.code).toBe("LOCAL_RUN_FAILED");
    expect(fatal.message).toMatch(/^flaky_agent failed on user_request msg-user-.*: BAD_INPUT: this request can never succeed$/);
    const deferred = await refusal(request("defer_agent", "defer 1"));
    expect(deferred.code).toBe("LOCAL_RUN_FAILED");
    expect(deferred.message).toContain("defer_agent deferred user_request");
  });

  it("stops a chain past its hop bound", async () => {
    const err = await refusal(request("fanout_agent", "hi"), { maxHops: 2 });
    expect(err.code).toBe("LOCAL_RUN_FAILED");
    expect(err.message).toContain("the chain ran past 2 deliveries and still had a message for echo_agent");
  });
});

describe("a local run and the bus build the same reply", () => {
  let t: AgentTest;
  beforeAll(async () => {
    t = await openAgentTest({ agentsDir: FIXTURE_AGENTS, agents: ["echo_agent"], name: "localrun", runtime: { clock }, config: { timezone: "Europe/Paris" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is equal but for the message id", async () => {
    const first = request("echo_agent", "same");
    expect((await t.runtime.bus.publish(first)).accepted).toBe(true);
    const onBus = await t.completed(first);
    const [, local] = await runLocally(first, options());
    expect({ ...local!, message_id: "" }).toEqual({ ...onBus, message_id: "" });
  });
});
