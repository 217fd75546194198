/**
 * How the pool reports Postgres going away: every connection error is STORE_UNAVAILABLE (so the
 * worker host defers and HTTP answers 503), and a lost connection is one short log line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAgentbusError } from "../../runtime/errors/index.ts";
import { PoolDb } from "../../runtime/store/index.ts";
import { recordingLogger, startBackend, type Harness } from "../helpers/pg.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

let h: Harness;
let proxy: TcpProxy;
const pools: PoolDb[] = [];

beforeAll(async () => {
  h = await startBackend("postgres", "poolfault");
  proxy = await startTcpProxy(h.endpoint);
});
afterAll(async () => {
  proxy?.restore();
  for (const p of pools) await p.close().catch(() => undefined);
  await proxy?.close();
  await h?.teardown();
});

function poolAt(logger = recordingLogger(), max = 1): PoolDb {
  const url = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
  const db = new PoolDb({
    pool: { host: "127.0.0.1", port: proxy.port, user: decodeURIComponent(url.username || "postgres"), database: url.pathname.slice(1) || "postgres", max, connectionTimeoutMillis: 300, query_timeout: 20_000 },
    schema: h.schema,
    backend: "postgres",
    logger,
  });
  pools.push(db);
  return db;
}

describe("the pool while Postgres stops answering", () => {
  it("answers STORE_UNAVAILABLE when every connection is stuck and the wait for one times out", async () => {
    const db = poolAt();
    await db.query("SELECT 1");
    proxy.stall(); // a blackhole: connections stay open, nothing comes back
    const stuck = db.query("SELECT 1 AS stuck"); // holds the only connection until restore
    let err: unknown;
    try {
      await db.query("SELECT 2");
    } catch (e) {
      err = e;
    }
    expect(isAgentbusError(err) && err.code).toBe("STORE_UNAVAILABLE");
    expect(isAgentbusError(err) && err.recoverable).toBe(true);
    proxy.restore();
    expect((await stuck).rows).toEqual([{ stuck: 1 }]);
  });

  it("logs a lost connection on one line with its code and cause, not the client object", async () => {
    const logger = recordingLogger();
    const db = poolAt(logger, 2);
    await db.query("SELECT 1"); // leaves an idle connection in the pool
    proxy.cut();
    const deadline = Date.now() + 10_000;
    while (!logger.entries.some((e) => /connection lost/.test(e.msg ?? "")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    proxy.restore();
    const lost = logger.entries.filter((e) => /connection lost/.test(e.msg ?? ""));
    expect(lost.length).toBeGreaterThan(0);
    for (const entry of lost) {
      expect(entry.obj).toEqual({ code: expect.any(String) as unknown, cause: expect.stringMatching(/Connection terminated|ECONNRESET|closed/i) as unknown });
      expect(JSON.stringify(entry.obj).length).toBeLessThan(400);
      expect(entry.msg).not.toMatch(/\n/);
    }
  });
});
