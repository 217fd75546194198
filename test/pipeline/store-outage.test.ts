/**
 * The fault test: Postgres cut (connections refused) for 10 s through a TCP proxy while 50 sessions
 * are in flight through the real agents. Every session succeeds, once; nothing is dead-lettered; the
 * audit log verifies and has every row. Deliveries that needed the store waited without using
 * attempts, and the outage was visible in Runtime.health() while it lasted.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../runtime/store/verify.ts";
import { startTcpProxy, type TcpProxy } from "../store/tcp-proxy.ts";
import { DATABASE_URL } from "../helpers/bus.ts";
import { openPipeline, type Pipeline } from "../helpers/pipeline.ts";

let proxy: TcpProxy;
let p: Pipeline;

beforeAll(async () => {
  const target = new URL(DATABASE_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  target.host = `127.0.0.1:${proxy.port}`;
  p = await openPipeline("pgcut", { databaseUrl: target.toString() });
});
afterAll(async () => {
  proxy?.restore();
  await p?.close();
  await proxy?.close();
});

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("Postgres cut for 10 s under 50 sessions", () => {
  it("finishes every session once, with no dead letters and an intact, complete audit log", async () => {
    const service = p.runtime.requestService();
    const texts = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? `What is (${i} + 25) * 3?` : `Summarize ${p.site.main}/pages/${i % 4 === 1 ? "solar" : "wind"}.html`,
    );
    const sessions: string[] = [];
    for (const text of texts) sessions.push((await service.submit({ text }, "user")).session_id);

    proxy.cut();
    const cutAt = Date.now();
    // Deliveries that need the store meet the outage: the runtime says so while it lasts.
    await until("the outage to show in health", () => p.runtime.health().store?.available === false, 10_000);
    expect(p.runtime.health()).toMatchObject({ ok: false, store: { available: false, down_since: expect.any(String) as unknown } });
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - cutAt))));
    proxy.restore();

    const views = new Map<string, Awaited<ReturnType<typeof service.session>>>();
    await until(
      "every session to finish with its record",
      async () => {
        for (const s of sessions) {
          if (views.has(s)) continue;
          const view = await service.session(s).catch(() => null);
          const record = view?.finished_at ? await service.workflowRecord(s).catch(() => null) : null;
          if (view && record && view.trace.some((h) => h.event === "completed" && h.from === "memory_agent")) views.set(s, view);
        }
        if (views.size === sessions.length) return true;
        // Dead letters mean some session can no longer finish: fail now, saying how many.
        const dead = await p.runtime.bus.deadLetters.list(100);
        if (dead.length > 0) throw new Error(`${dead.length} dead letters (${[...new Set(dead.map((d) => d.error?.code))].join(", ")}); ${views.size}/50 sessions finished`);
        return false;
      },
      90_000,
    );
    expect(p.runtime.health().store?.available).toBe(true);

    expect([...views.values()].filter((v) => v.status !== "success").map((v) => ({ id: v.session_id, status: v.status, error: v.error }))).toEqual([]);
    expect(await p.runtime.bus.deadLetters.list(100)).toEqual([]);
    // Once: each session has exactly one answer and one workflow record.
    for (const v of views.values()) {
      expect(v.trace.filter((h) => h.event === "completed" && h.from === "reasoning_agent")).toHaveLength(1);
      expect(v.trace.filter((h) => h.event === "completed" && h.from === "memory_agent")).toHaveLength(1);
    }

    const audit = p.runtime.store!.audit;
    await audit.flush();
    const stats = audit.stats();
    expect(stats.flushErrors).toBeGreaterThan(0); // the cut really hit the audit log too
    expect(stats).toMatchObject({ buffered: 0, written: stats.appended });
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${p.schema}".audit_log`);
    await pool.end();
    expect(Number(rows[0]!.n)).toBe(stats.appended); // 0 audit rows lost
    expect(await verifyAudit(p.runtime.store!.db)).toMatchObject({ ok: true, chains: 50 });
  }, 150_000);
});
