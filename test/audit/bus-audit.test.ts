/**
 * The bus and its system of record together: every hop is in the audit log, the chains verify,
 * tampering is named by `agentbus audit verify`, and `agentbus trace` shows the session in order.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope, JsonObject } from "../../runtime/envelope/types.ts";
import type { Synthesis } from "../../runtime/agent-api.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { getSession } from "../../runtime/store/sessions.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, uniquePrefix, uniqueSchema, type EventLog } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";

const prefix = uniquePrefix("audit");
const schema = uniqueSchema("audit");
const cliEnv = { DATABASE_URL, AGENTBUS_DB_SCHEMA: schema };
let runtime: Runtime;
let events: EventLog;
const sessions: string[] = [];

async function sql(text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  ({ runtime, events } = await openTestRuntime(prefix, { dbSchema: schema }));
  runtime.startAgents(["echo_agent", "fanout_agent"]);
  for (const text of ["alpha", "beta", "gamma"]) {
    const req = buildRequest({ content_type: "user_request", content: { text }, to: "fanout_agent" }, { clock: systemClock, timezone: "UTC" });
    sessions.push(req.metadata.session_id);
    expect((await runtime.bus.publish(req)).accepted).toBe(true);
  }
  for (const s of sessions) {
    for (const n of [1, 2]) {
      await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === s && (e.envelope as Envelope<Synthesis & JsonObject>).output.content.answer.endsWith(`#${n}`));
    }
  }
  await runtime.store!.audit.flush();
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

describe("the audit log of a run", () => {
  it("records every hop of a session: published, delivered and completed, in sequence", async () => {
    const rows = await sql(`SELECT outcome, agent, envelope->'metadata'->>'sequence_number' AS seq FROM "${schema}".audit_log WHERE session_id = $1 ORDER BY id`, [sessions[0]]);
    const summary = rows.rows.map((r: { outcome: string; agent: string; seq: string }) => `${r.seq}:${r.outcome}:${r.agent}`).sort();
    expect(summary).toEqual(
      ["1:published:user", "1:delivered:fanout_agent", "2:published:fanout_agent", "3:published:fanout_agent", "2:delivered:echo_agent", "3:delivered:echo_agent", "4:completed:echo_agent", "5:completed:echo_agent"].sort(),
    );
  });

  it("keeps a session row with its status, timings and answer", async () => {
    const session = await getSession(runtime.store!.db, sessions[1]!);
    expect(session).toMatchObject({ sessionId: sessions[1], status: "success", lastSeq: 5 });
    expect(session!.finishedAt!.getTime()).toBeGreaterThanOrEqual(session!.startedAt.getTime());
    expect((session!.answer as { answer: string }).answer).toMatch(/^echo: beta #[12]$/);
  });

  it("traces a session as a timeline with every hop in order", async () => {
    const r = await runCli(["trace", sessions[0]!], cliEnv);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^session ${sessions[0]}  request r-\\w+  success in \\d+ ms`));
    const seqs = lines.filter((l) => /^\d+\s/.test(l)).map((l) => Number(l.split(/\s+/)[0]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs).toEqual([1, 1, 2, 2, 3, 3, 4, 5].sort((a, b) => a - b));
    expect(r.stdout).toMatch(/1\s+\d+\s+published\s+user → fanout_agent\s+user_request\s+success/);
    expect(r.stdout).toMatch(/completed\s+echo_agent → COMPLETE\s+synthesis\s+success/);

    const json = await runCli(["trace", sessions[0]!, "--json"], cliEnv);
    const out = JSON.parse(json.stdout) as { envelopes: Envelope[] };
    expect(out.envelopes.map((e) => e.metadata.sequence_number)).toEqual([1, 2, 3, 4, 5]);
    expect(out.envelopes.every((e) => runtime.bus.validate(e).ok)).toBe(true);
  });

  it("says when a session does not exist", async () => {
    const r = await runCli(["trace", "s-nope"], cliEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error NOT_FOUND: session s-nope not found");
  });
});

describe("agentbus audit verify", () => {
  it("exits 0 on the untouched log", async () => {
    const r = await runCli(["audit", "verify"], cliEnv);
    expect(r.stdout).toMatch(/^✓ audit log intact: 3 chain\(s\), 24 row\(s\)/);
    expect(r.code).toBe(0);
  });

  it("exits 1 and names the row after an UPDATE of its content made directly in SQL", async () => {
    const target = (await sql(`SELECT id FROM "${schema}".audit_log WHERE session_id = $1 AND outcome = 'completed' ORDER BY id LIMIT 1`, [sessions[1]])).rows[0] as { id: string };
    await sql(`BEGIN; SET LOCAL session_replication_role = replica; UPDATE "${schema}".audit_log SET envelope = jsonb_set(envelope, '{output,content,answer}', '"forged"') WHERE id = ${Number(target.id)}; COMMIT;`);
    const r = await runCli(["audit", "verify", "--session", sessions[1]!], cliEnv);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✗ audit log broken: 1 problem(s)");
    expect(r.stdout).toContain(`hash_mismatch  session ${sessions[1]} (row ${target.id}, position`);
  });

  it("exits 1 and names where the chain breaks after a DELETE made directly in SQL", async () => {
    const rows = (await sql(`SELECT id FROM "${schema}".audit_log WHERE session_id = $1 ORDER BY seq_in_chain`, [sessions[2]])).rows as Array<{ id: string }>;
    await sql(`BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM "${schema}".audit_log WHERE id = ${Number(rows[3]!.id)}; COMMIT;`);
    const r = await runCli(["audit", "verify", "--session", sessions[2]!, "--json"], cliEnv);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; broken: Array<{ id: string; problem: string }> };
    expect(out.ok).toBe(false);
    expect(out.broken[0]).toMatchObject({ id: rows[4]!.id, problem: "missing_seq" });
  });
});
