/**
 * Postgres goes away mid-run (a proxy in front of it is cut) and comes back: the bus keeps working
 * while the audit buffer has room, then refuses new requests and pauses its workers; once Postgres
 * returns, everything buffered is written and zero audit rows are lost.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { isAgentbusError } from "../../runtime/errors/index.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import type { AgentHost } from "../../runtime/agents/host.ts";
import { verifyAudit } from "../../runtime/store/verify.ts";
import { startTcpProxy, type TcpProxy } from "../store/tcp-proxy.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, uniquePrefix, uniqueSchema, type EventLog } from "../helpers/bus.ts";

const prefix = uniquePrefix("pgout");
const schema = uniqueSchema("pgout");
let proxy: TcpProxy;
let runtime: Runtime;
let events: EventLog;
let hosts: AgentHost[];

beforeAll(async () => {
  const target = new URL(DATABASE_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  target.host = `127.0.0.1:${proxy.port}`;
  ({ runtime, events } = await openTestRuntime(prefix, { dbSchema: schema, databaseUrl: target.toString(), audit: { flushIntervalMs: 20, maxBuffered: 30 } }));
  hosts = runtime.startAgents(["echo_agent"]);
});

afterAll(async () => {
  proxy?.restore();
  await runtime?.close();
  await proxy?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

const request = (text: string): Envelope => buildRequest({ content_type: "user_request", content: { text }, to: "echo_agent" }, { clock: systemClock, timezone: "UTC" });
const completed = (s: string) => events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === s, 20_000);

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Postgres unreachable mid-run", () => {
  it("buffers, then refuses new requests and pauses workers at the bound, and loses no audit row", async () => {
    const audit = runtime.store!.audit;
    const accepted: string[] = [];
    const send = async (text: string): Promise<void> => {
      const req = request(text);
      await runtime.bus.publish(req);
      accepted.push(req.metadata.session_id);
    };

    await send("before");
    await completed(accepted[0]!);

    proxy.cut();
    // The bus keeps working while the buffer has room: each request costs 3 rows (published, delivered, completed).
    for (let i = 0; i < 5; i++) await send(`during ${i}`);
    for (const s of accepted) await completed(s);
    await until("flush failures", () => audit.stats().flushErrors > 0);
    expect(audit.stats().written).toBeLessThan(audit.stats().appended);

    // Fill to the bound: publishes are refused with a clear code, and nothing is half-done.
    let refusal: unknown;
    for (let i = 0; i < 40 && refusal === undefined; i++) {
      try {
        await send(`filling ${i}`);
      } catch (err) {
        refusal = err;
      }
    }
    expect(isAgentbusError(refusal) && refusal.code).toBe("AUDIT_BUFFER_FULL");
    expect(audit.accepting).toBe(false);
    await until("workers to pause", () => hosts.every((h) => h.worker.isPaused()));

    proxy.restore();
    await until("the audit buffer to drain", () => audit.buffered === 0 && audit.accepting);
    expect(hosts.some((h) => h.worker.isPaused())).toBe(false);
    for (const s of accepted) await completed(s);
    await audit.flush();

    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const { rows } = await pool.query<{ outcome: string; n: string }>(`SELECT outcome, count(*) AS n FROM "${schema}".audit_log GROUP BY outcome ORDER BY outcome`);
    await pool.end();
    const counts = Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
    expect(counts).toEqual({ completed: accepted.length, delivered: accepted.length, published: accepted.length });
    expect(audit.stats()).toMatchObject({ written: audit.stats().appended, buffered: 0 });
    expect(await verifyAudit(runtime.store!.db)).toMatchObject({ ok: true, chains: accepted.length, rows: 3 * accepted.length });
  });
});
