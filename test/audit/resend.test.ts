/**
 * Re-sending a message that is already on the bus: the sender is told "already published", no
 * second `published` row is written, and `trace` stays in order with no negative hop times (also
 * for logs that recorded a second publish before this was fixed).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timeline } from "../../runtime/cli/commands/trace.ts";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { AuditWriter, getTrace, migrate, openDb, type Db, type TraceEntry } from "../../runtime/store/index.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, REDIS_URL, uniquePrefix, uniqueSchema, type EventLog } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";
import { envelope } from "../store/fixtures.ts";

const quiet = { info() {}, warn() {}, error() {} };

/** Data rows of a timeline: [seq, +ms, hop ms, event], cut at the header's column starts. */
function cells(text: string): string[][] {
  const lines = text.split("\n");
  const header = lines.find((l) => l.startsWith("seq")) ?? "";
  const starts = ["seq", "+ms", "hop ms", "event", "from"].map((h) => header.indexOf(h));
  return lines
    .filter((l) => /^\d+\s/.test(l))
    .map((l) => starts.slice(0, 4).map((from, i) => l.slice(from, starts[i + 1]).trim()));
}

describe("trace of a message published twice (as older logs recorded it)", () => {
  const env = envelope("s-twice", 1, "user");
  const at = (ms: number): Date => new Date(Date.UTC(2026, 2, 1, 12, 0, 0) + ms);
  const entry = (id: string, outcome: TraceEntry["outcome"], ms: number, agent = "user"): TraceEntry => ({
    id,
    seqInChain: Number(id),
    sequenceNumber: 1,
    outcome,
    agent,
    messageId: env.message_id as string,
    recordedAt: at(ms),
    reasons: null,
    envelope: env,
  });

  it("prints the queue wait from the first publish, never a negative hop, and marks the second publish", () => {
    const out = timeline([entry("1", "published", 0), entry("2", "delivered", 5, "planning_agent"), entry("3", "published", 7226)]);
    expect(out).not.toMatch(/-\d/);
    expect(cells(out)).toEqual([
      ["1", "0", "", "published"],
      ["1", "5", "5", "delivered"],
      ["1", "7226", "", "republished"],
    ]);
  });

  it("orders rows of one sequence number by time, not by the order writers flushed them", async () => {
    const schema = uniqueSchema("trace_order");
    const db: Db = await openDb({ databaseUrl: DATABASE_URL, schema, logger: quiet });
    try {
      await migrate(db);
      let clock = at(10);
      const writer = new AuditWriter(db, { logger: quiet, clock: { now: () => clock.getTime() } });
      // The consumer's writer flushed its delivery before the publisher's writer flushed the publish.
      writer.append({ outcome: "delivered", agent: "planning_agent", envelope: env });
      await writer.flush();
      clock = at(0);
      writer.append({ outcome: "published", agent: "user", envelope: env });
      clock = at(20);
      writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope("s-twice", 2) });
      await writer.close();
      const trace = await getTrace(db, "s-twice");
      expect(trace.map((e) => [e.sequenceNumber, e.outcome])).toEqual([
        [1, "published"],
        [1, "delivered"],
        [2, "published"],
      ]);
      expect(cells(timeline(trace)).map((c) => c.slice(0, 3))).toEqual([
        ["1", "0", ""],
        ["1", "10", "10"],
        ["2", "20", ""], // no parent named: no hop
      ]);
    } finally {
      await db.close();
      await dropSchema(schema);
    }
  });
});

describe("agentbus send of a message already published", () => {
  const prefix = uniquePrefix("resend");
  const schema = uniqueSchema("resend");
  const dir = mkdtempSync(join(tmpdir(), "agentbus-resend-"));
  const cliEnv = { REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: schema };
  const bus = ["--agents-dir", "test/fixtures/agents", "--prefix", prefix];
  let runtime: Runtime;
  let events: EventLog;

  beforeAll(async () => {
    ({ runtime, events } = await openTestRuntime(prefix, { dbSchema: schema }));
    runtime.startAgents(["echo_agent"]);
  });
  afterAll(async () => {
    await runtime?.close();
    await dropPrefix(prefix);
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it("says already published, records one published row, and the trace has no negative hop", async () => {
    const req = buildRequest({ content_type: "user_request", content: { text: "only once" }, to: "echo_agent" }, { clock: systemClock, timezone: "UTC" });
    const file = join(dir, "req.json");
    writeFileSync(file, JSON.stringify(req));
    const first = await runCli([...bus, "send", file], cliEnv);
    expect(first.stdout).toContain(`✓ published ${req.message_id} → echo_agent`);
    await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);

    const again = await runCli([...bus, "send", file], cliEnv);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already published ${req.message_id} → echo_agent; not sent again`);
    const json = await runCli([...bus, "send", "--json", file], cliEnv);
    expect(JSON.parse(json.stdout)).toEqual({ accepted: true, message_id: req.message_id, queue: "echo_agent", duplicate: true });

    await runtime.store!.audit.flush();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const rows = await client.query(`SELECT outcome FROM "${schema}".audit_log WHERE message_id = $1 ORDER BY id`, [req.message_id]);
      expect(rows.rows.map((r: { outcome: string }) => r.outcome)).toEqual(["published", "delivered"]);
    } finally {
      await client.end();
    }
    const trace = await runCli(["trace", req.metadata.session_id], cliEnv);
    expect(trace.code).toBe(0);
    const hops = cells(trace.stdout);
    expect(hops.map((c) => c[3])).toEqual(["published", "delivered", "completed"]);
    for (const c of hops) {
      expect(Number(c[1])).toBeGreaterThanOrEqual(0);
      if (c[2]) expect(Number(c[2])).toBeGreaterThanOrEqual(0);
    }
    // Four CLI processes, each starting tsx: on a loaded 2-core machine that alone can take 30 s.
  }, 90_000);
});
