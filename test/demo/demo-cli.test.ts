/**
 * The closed-loop demo as a user runs it, on real Redis and Postgres: `agentbus demo --learn`
 * (3 rounds of the demo traffic, then learning) prints the fail-fast rule for the always-429 host
 * and where to review it; `agentbus rules approve` as a reviewer writes it to the memory folder;
 * `agentbus demo` again prints the before/after table: that request's attempts go from 3 to 1,
 * naming the rule, and the other requests end as they did.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DemoOutcome } from "../../runtime/demo/run-demo.ts";
import type { ComparisonRow } from "../../runtime/demo/compare.ts";
import type { LearnNowResult } from "../../runtime/learn/now.ts";
import { runCli } from "../helpers/cli.ts";
import { DATABASE_URL, dropPrefix, dropSchema, REDIS_URL, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";

const prefix = uniquePrefix("democli");
const schema = uniqueSchema("democli");
const PASSWORD = "a long and unguessable passphrase";
let dataDir = "";
let memoryDir = "";

const cli = (args: string[], stdin?: string) =>
  runCli(args, { REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: schema, AGENTBUS_QUEUE_PREFIX: prefix, AGENTBUS_DATA_DIR: dataDir, AGENTBUS_MEMORY_DIR: memoryDir, AGENTBUS_MEMORY_BATCH_RECORDS: "0" }, 120_000, stdin === undefined ? {} : { stdin });

interface DemoJson {
  site: { limited: string };
  outcomes: DemoOutcome[];
  comparison: ComparisonRow[] | null;
  learning?: LearnNowResult | null;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "abdemo-data-"));
  memoryDir = await mkdtemp(join(tmpdir(), "abdemo-memory-"));
});
afterAll(async () => {
  await dropSchema(schema);
  await dropPrefix(prefix);
  await Promise.all([dataDir, memoryDir].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

describe("agentbus demo --learn, approve, demo", () => {
  let ruleId = "";
  let first: DemoJson;

  it("demo --learn runs three rounds, then learning: one fail-fast rule for the always-429 host, pending, with where to review it", async () => {
    const text = await cli(["demo", "--learn"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Learning: batch batch_\d{8}_\d{3} of 27 workflow record\(s\)/);
    expect(text.stdout).toMatch(/rule_\d{8}_\d{2}\s+new\s+pending\s+dispatch_agent\s+medium\s+0\.\d\d\s+"When fetch on 127\.0\.0\.4 fails with HTTP_429"/);
    expect(text.stdout).toContain("/review");
    expect(text.stdout).toMatch(/npx agentbus rules approve rule_\d{8}_\d{2} --as <you>/);
    expect(text.stderr).toMatch(/batch batch_\d{8}_\d{3} claimed: 27 record\(s\)/);
    ruleId = /rule_\d{8}_\d{2}/.exec(text.stdout)?.[0] ?? "";
    expect(ruleId).not.toBe("");
    // Nothing applies before a person approves: the memory folder is empty.
    expect(await readdir(memoryDir)).toEqual([]);
  }, 120_000);

  it("the same traffic again before approval: nothing changed (the pending rule applies nowhere)", async () => {
    const res = await cli(["demo", "--json"]);
    expect(res.code, res.stderr).toBe(0);
    first = JSON.parse(res.stdout) as DemoJson;
    const always = first.outcomes.find((o) => o.label === "429 always")!;
    expect(always).toMatchObject({ status: "failed", attempts: 3, rules_applied: [] });
    expect(first.comparison?.find((r) => r.label === "429 always")).toMatchObject({ before: { attempts_mean: 3 }, after: { attempts_mean: 3 } });
  }, 120_000);

  it("a reviewer approves it from the command line; the file appears under the memory folder", async () => {
    expect((await cli(["admin", "create", "rita", "--role", "reviewer"], `${PASSWORD}\n`)).code).toBe(0);
    const ok = await cli(["rules", "approve", ruleId, "--as", "rita"], `${PASSWORD}\n`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readdir(join(memoryDir, "dispatch_agent"))).toEqual([`${ruleId}.md`]);
  }, 60_000);

  it("demo again prints the before/after: the always-429 request spends 1 attempt instead of 3 under the rule, the rest end as before", async () => {
    const text = await cli(["demo"]);
    expect(text.code, text.stderr).toBe(0);
    const row = new RegExp(`429 always\\s+failed → failed\\s+3 → 1\\s+(\\d+) → (\\d+)\\s+${ruleId}`).exec(text.stdout);
    expect(row, text.stdout).not.toBeNull();
    // Time saved: no retries, so none of their Retry-After waits.
    expect(Number(row![2])).toBeLessThan(Number(row![1]) / 2);
    const json = await cli(["demo", "--json"]);
    const after = JSON.parse(json.stdout) as DemoJson;
    const statuses = (d: DemoJson) => Object.fromEntries(d.outcomes.map((o) => [o.label, o.status]));
    expect(statuses(after)).toEqual(statuses(first));
    for (const o of after.outcomes) expect(o.rules_applied, o.label).toEqual(o.label === "429 always" ? [ruleId] : []);
  }, 120_000);
});
