/**
 * `agentbus learn --now` and `agentbus proposals` on real Redis and Postgres: workflow records put
 * in the store are batched by the memory agent and mined by the learning agent (both started by the
 * command itself, no `agentbus start`), the proposal lands in the queue and is printed; a second run
 * finds nothing waiting; a later batch with the same pattern re-observes the proposal instead of
 * proposing it again; `proposals` lists the queue and refuses bad filters.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workflow, type StepSpec } from "../../eval/learning/records.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { AgentbusError } from "../../runtime/errors/index.ts";
import { learnNow, type LearnNowResult } from "../../runtime/learn/now.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { ENVELOPE_SCHEMA_ID, schemaRegistry } from "../../runtime/schemas/registry.ts";
import { insertWorkflowRecord, openStore, type Db, type WorkflowRecordInput } from "../../runtime/store/index.ts";
import { listProposals } from "../../runtime/store/proposals.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, REDIS_URL, testConfig, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";
import { ids } from "./helpers.ts";

const registry = schemaRegistry();
const prefix = uniquePrefix("learnnow");
const schema = uniqueSchema("learnnow");
const env = { REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: schema, AGENTBUS_QUEUE_PREFIX: prefix, AGENTBUS_MEMORY_BATCH_RECORDS: "0" };
const TIMEOUT = 90_000;
let db: Db;

const ok = (capability: string, extra: Partial<StepSpec> = {}): StepSpec => ({ capability, duration_ms: 100, ...extra });

/** `n` ordinary sessions and `failing` whose fetch on x.org spent 3 attempts on HTTP_429 and failed. */
async function insertRecords(tag: string, n: number, failing: number): Promise<void> {
  const records = [
    ...ids(`${tag}-bg`, n).map((id, i) => workflow({ session_id: id, category: "lookup", steps: [ok("fetch", { domain: `d${i % 3}.example` }), ok("extract_text")] })),
    ...ids(`${tag}-rl`, failing).map((id) => workflow({ session_id: id, category: "lookup", steps: [ok("fetch", { status: "failed", attempts: 3, error_code: "HTTP_429", domain: "x.org", recoverable: true, duration_ms: 600 }), { capability: "extract_text", status: "skipped" }] })),
  ];
  // Records built to the workflow_record schema; the store checks them against it again.
  for (const r of records) await insertWorkflowRecord(db, r as unknown as WorkflowRecordInput);
}

beforeAll(async () => {
  db = await openStore({ databaseUrl: DATABASE_URL, schema });
});
afterAll(async () => {
  await db?.close();
  await dropSchema(schema);
  await dropPrefix(prefix);
});

describe("agentbus learn --now", () => {
  let ruleId = "";

  it("an empty queue says what produces proposals", async () => {
    const res = await runCli(["proposals"], env, TIMEOUT);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("no proposals: the learning agent proposes rules when it mines a batch of workflow records");
  });

  it("batches and mines the stored records: the proposal is in the queue and printed", async () => {
    await insertRecords("a", 30, 8);
    const res = await runCli(["learn", "--now", "--json"], env, TIMEOUT);
    expect(res.stderr).not.toContain("    at ");
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as LearnNowResult;
    expect(out.batch).toMatchObject({ batch_id: expect.stringMatching(/^batch_[0-9]{8}_001$/), records: 38, period_from: "2026-02-24T10:00:00.200Z", period_to: "2026-02-24T10:00:00.600Z" });
    const report = out.report as Envelope;
    expect(registry.check(ENVELOPE_SCHEMA_ID, report)).toEqual([]);
    expect(report.agent.name).toBe("learning_agent");
    expect(out.proposals).toEqual([
      { rule_id: expect.stringMatching(/^rule_[0-9]{8}_01$/), status: "new", state: "pending", target_agent: "dispatch_agent", priority: "high", confidence: expect.any(Number), trigger_condition: "When fetch on x.org fails with HTTP_429", observations: 1 },
    ]);
    ruleId = out.proposals[0]!.rule_id;
    expect(res.stderr).toContain("started memory_agent, learning_agent in this process");
    expect(res.stderr).toMatch(new RegExp(`batch ${out.batch!.batch_id} claimed: 38 record\\(s\\), 2026-02-24T10:00:00\\.200Z → 2026-02-24T10:00:00\\.600Z`));
    expect(res.stderr).toContain("summary: 38 workflow(s) (30 success, 0 partial, 8 failed), 76 task(s) → learning_agent");
    expect(res.stderr).toMatch(/report msg-lrn-\S+: 1 pattern\(s\), 1 rule\(s\) proposed/);

    const queue = await listProposals(db);
    expect(queue.map((p) => [p.rule_id, p.state, p.pattern_key, p.batch_id])).toEqual([[ruleId, "pending", "action_failure:fetch:HTTP_429:x.org", out.batch!.batch_id]]);
  });

  it("a second run says nothing waits (exit 0) and proposes nothing", async () => {
    const res = await runCli(["learn", "--now"], env, TIMEOUT);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("no workflow records wait for a batch");
    expect(await listProposals(db)).toHaveLength(1);
  });

  it("a later batch with the same pattern re-observes the proposal, printed as such", async () => {
    await insertRecords("b", 5, 7);
    const res = await runCli(["learn", "--now"], env, TIMEOUT);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/batch batch_[0-9]{8}_002: 12 record\(s\)/);
    expect(res.stdout).toContain("0 new proposal(s), 1 seen again");
    expect(res.stdout).toMatch(new RegExp(`${ruleId} {2}re-observed {2}pending {2}dispatch_agent {2}high {3}0\\.9\\d {2}"When fetch on x.org fails with HTTP_429"`));
  });

  it("proposals --json lists the queue; the table shows how often it was seen again", async () => {
    const json = await runCli(["proposals", "--json"], env, TIMEOUT);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { proposals: Array<Record<string, unknown>> };
    expect(out.proposals).toEqual([
      expect.objectContaining({ rule_id: ruleId, state: "pending", target_agent: "dispatch_agent", priority: "high", observations: 2, reobserved: 1, description: "When fetch on x.org fails with HTTP_429", last_observed_at: expect.any(String) }),
    ]);
    const text = await runCli(["proposals", "--state", "pending", "--target", "dispatch_agent", "--limit", "5"], env, TIMEOUT);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${ruleId} +pending +dispatch_agent +high +0\\.9\\d +1 +\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} +When fetch on x.org fails with HTTP_429`));
    const none = await runCli(["proposals", "--target", "planning_agent"], env, TIMEOUT);
    expect(none.stdout).toContain("no proposals matching these filters");
  });

  it.each([
    [["proposals", "--state", "bogus"], '--state must be one of pending, approved, rejected, retired, got "bogus"'],
    [["proposals", "--limit", "0"], '--limit must be a whole number from 1 to 10000, got "0"'],
    [["learn", "--now", "--timeout", "soon"], "--timeout must be a positive number of seconds, got soon"],
  ])("%j is a usage error naming what is allowed (exit 2)", async (args, message) => {
    const res = await runCli(args, env, TIMEOUT);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`error USAGE: ${message}`);
  });
});

describe("learnNow in a runtime that already runs every agent (as agentbus demo does)", () => {
  it("starts no second worker, and a report not seen in time is LEARN_TIMEOUT naming the session", async () => {
    const config = testConfig(prefix, { agentsDir: `${PROJECT_ROOT}/agents`, dbSchema: schema, databaseUrl: DATABASE_URL, memoryBatchRecords: 0 });
    const { runtime } = await openTestRuntime(prefix, { dbSchema: schema, config });
    try {
      runtime.startAgents();
      const running = runtime.runningAgents();
      await insertRecords("c", 4, 6);
      const lines: string[] = [];
      const result = await learnNow(runtime, { onProgress: (l) => lines.push(l), timeoutMs: 60_000 });
      expect(runtime.runningAgents()).toEqual(running);
      expect(lines.some((l) => l.startsWith("started"))).toBe(false);
      expect(result.batch?.records).toBe(10);
      // The pattern the tests above queued, seen again.
      expect(result.proposals.map((p) => p.status)).toEqual(["reobserved"]);

      await insertRecords("d", 2, 6);
      const late = await learnNow(runtime, { timeoutMs: 1 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(late).toBeInstanceOf(AgentbusError);
      expect((late as AgentbusError).code).toBe("LEARN_TIMEOUT");
      expect((late as AgentbusError).message).toMatch(/^no learning report within 1 ms; session learn-\S+ may still finish: agentbus trace learn-/);
    } finally {
      await runtime.close();
    }
  });
});
