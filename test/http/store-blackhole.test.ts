/**
 * Postgres stops answering without closing connections (a blackhole: packets dropped) while every
 * pooled connection is stuck on it: a new request waits for a connection, the wait times out, and
 * the client gets 503 with Retry-After (the store is away, try again), not a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../runtime/runtime.ts";
import { startTcpProxy, type TcpProxy } from "../store/tcp-proxy.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";
import { httpComponent } from "../../runtime/http/component.ts";

const prefix = uniquePrefix("blackhole");
const schema = uniqueSchema("blackhole");
let proxy: TcpProxy;
let runtime: Runtime;
let url: string;
const stuck: Array<Promise<unknown>> = [];

beforeAll(async () => {
  const target = new URL(DATABASE_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  target.host = `127.0.0.1:${proxy.port}`;
  const databaseUrl = target.toString();
  const http = httpComponent({ port: 0, token: "t0ken" });
  ({ runtime } = await openTestRuntime(prefix, { dbSchema: schema, databaseUrl, config: testConfig(prefix, { dbSchema: schema, databaseUrl, entryAgent: "echo_agent" }), components: [http] }));
  url = http.url!;
});
afterAll(async () => {
  proxy?.restore();
  await Promise.allSettled(stuck);
  await runtime?.close();
  await proxy?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

describe("POST /api/requests while Postgres is a blackhole", () => {
  it("answers 503 with Retry-After once the wait for a connection times out", async () => {
    proxy.stall();
    // Every connection of the pool (10) gets stuck on a query the server never answers.
    for (let i = 0; i < 12; i++) stuck.push(runtime.store!.db.query("SELECT 1").catch(() => undefined));
    const res = await fetch(`${url}/api/requests`, {
      method: "POST",
      headers: { authorization: "Bearer t0ken", "content-type": "application/json" },
      body: JSON.stringify({ text: "What is 6 * 7?" }),
    });
    const body = (await res.json()) as { error: { code: string } };
    expect({ status: res.status, code: body.error.code }).toEqual({ status: 503, code: "STORE_UNAVAILABLE" });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    proxy.restore();
  }, 60_000);
});
