/**
 * The learning agent spec's own "Required Output" example is the canonical envelope: kept byte for
 * byte as a valid fixture, accepted by `agentbus validate`, and carried by the bus as written.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPLETE, type Envelope } from "../../runtime/envelope/types.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { dropPrefix, openTestRuntime, uniquePrefix, type EventLog } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";

const FIXTURE = "test/fixtures/envelopes/valid/learning-report-seed-spec-example.json";
const SEED_SPEC = join(PROJECT_ROOT, "..", "shared", "seeds", "learning-agent-spec.md");
// sha256 of the example's bytes as they stand in the seed spec (v1.0.0), between ```json and ```.
const SEED_EXAMPLE_SHA256 = "7ae02c72a003389e6b00c18553ec8b9f42e5f50d27943249917a3c037f6eabab";

const bytes = readFileSync(join(PROJECT_ROOT, FIXTURE));
const seedExample = JSON.parse(bytes.toString("utf8")) as Envelope;

describe("the seed spec's example envelope", () => {
  it("is kept byte for byte", () => {
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(SEED_EXAMPLE_SHA256);
    // Where the spec itself is at hand (a checkout beside shared/), compare with it directly.
    if (existsSync(SEED_SPEC)) {
      const spec = readFileSync(SEED_SPEC, "utf8");
      const start = spec.indexOf("```json\n") + "```json\n".length;
      expect(spec.slice(start, spec.indexOf("```", start))).toBe(bytes.toString("utf8"));
    }
  });

  it("is valid for `agentbus validate` with the spec's meanings: ids without prefix, notes as text, patterns as a count", async () => {
    const r = await runCli(["--agents-dir", "test/fixtures/agents", "validate", "--json", FIXTURE]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file: FIXTURE, valid: true, issues: [], warnings: [] });
    expect(seedExample.metadata).toMatchObject({ session_id: "batch-20260224-2300", request_id: "batch_run" });
    expect(typeof seedExample.audit.compliance_notes).toBe("string");
    expect(seedExample.output.content).toMatchObject({ learning_report: { patterns_identified: 2 } });
    expect(seedExample.input).toEqual({ source: "memory_agent", content: { batch_size: 15, audit_file: "system/logs/20260224_summary.json" } });
  });
});

describe("the seed spec's example on the bus", () => {
  const prefix = uniquePrefix("seed-example");
  let runtime: Runtime;
  let events: EventLog;

  beforeAll(async () => {
    ({ runtime, events } = await openTestRuntime(prefix));
    runtime.startAgents(["review_station_agent"]);
  });
  afterAll(async () => {
    await runtime?.close();
    await dropPrefix(prefix);
  });

  it("is accepted as written and completes its batch session (next_agent COMPLETE)", async () => {
    const result = await runtime.bus.publish(structuredClone(seedExample));
    expect(result).toEqual({ accepted: true, message_id: "msg-lrn-20260224-230000", queue: null });
    const done = await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).message_id === seedExample.message_id);
    expect(done.envelope).toEqual(seedExample);
  });

  it("is delivered unchanged to an agent that accepts learning_report", async () => {
    const routed: Envelope = { ...structuredClone(seedExample), message_id: "msg-lrn-20260224-230000-review", next_agent: { name: "review_station_agent", reason: "to the review station" } };
    const result = await runtime.bus.publish(routed);
    expect(result).toEqual({ accepted: true, message_id: routed.message_id, queue: "review_station_agent" });

    const delivered = await events.waitFor((e) => e.kind === "delivered" && (e.envelope as Envelope).message_id === routed.message_id);
    expect(delivered.agent).toBe("review_station_agent");
    expect(delivered.envelope).toEqual(routed);

    const answer = await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.parent_message_id === routed.message_id);
    const reply = answer.envelope as Envelope;
    expect(reply.agent.name).toBe("review_station_agent");
    expect(reply.next_agent.name).toBe(COMPLETE);
    expect(reply.metadata).toMatchObject({ session_id: "batch-20260224-2300", request_id: "batch_run", sequence_number: 2 });
    expect(reply.output.content).toMatchObject({ answer: "received 2 proposed rules from batch_20260224" });
  });
});
