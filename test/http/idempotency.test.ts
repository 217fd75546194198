/**
 * Idempotency keys on new requests: a client that retries (after a 503, a timeout, a dropped
 * connection) with the same key gets the session its first try started, never a second one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfrastructureError } from "../../runtime/errors/index.ts";
import { httpComponent } from "../../runtime/http/component.ts";
import { RequestService } from "../../runtime/http/request-service.ts";
import type { Db } from "../../runtime/store/db.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, DATABASE_URL } from "../helpers/bus.ts";

const prefix = uniquePrefix("idem");
const schema = uniqueSchema("idem");
const token = "test-token-idempotency-0123456789";
let runtime: Runtime;
let base: string;

beforeAll(async () => {
  const config = testConfig(prefix, { dbSchema: schema, databaseUrl: DATABASE_URL, entryAgent: "echo_agent" });
  const http = httpComponent({ token, port: 0 });
  ({ runtime } = await openTestRuntime(prefix, { dbSchema: schema, config, components: [http] }));
  runtime.startAgents(["echo_agent"]);
  base = http.url ?? "";
});

afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

const headers = (key?: string): Record<string, string> => ({ authorization: `Bearer ${token}`, "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) });
const post = (body: unknown, key?: string) => fetch(`${base}/api/requests`, { method: "POST", headers: headers(key), body: JSON.stringify(body) });

async function sessionsNamed(sessionId: string): Promise<number> {
  const db = runtime.store!.db;
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".sessions WHERE session_id = $1`, [sessionId]);
  return Number(r.rows[0]?.n);
}

/** A Db whose queries fail (or hang) while `mode` says so, as an outage would. */
function flakyDb(db: Db, state: { mode: "ok" | "fail" | "hang" }): Db {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== "query") return Reflect.get(target, prop, receiver) as unknown;
      return (...args: Parameters<Db["query"]>) => {
        if (state.mode === "fail") return Promise.reject(new InfrastructureError("STORE_UNAVAILABLE", "connection refused (test)"));
        if (state.mode === "hang") return new Promise(() => undefined);
        return target.query(...args);
      };
    },
  });
}

describe("POST /api/requests with an Idempotency-Key", () => {
  it("returns the same session for a retry, runs it once and says it was a replay", async () => {
    const first = await post({ text: "once only" }, "key-retry-1");
    expect(first.status).toBe(202);
    const a = (await first.json()) as { session_id: string; message_id: string };
    const again = await post({ text: "once only" }, "key-retry-1");
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const b = (await again.json()) as { session_id: string; message_id: string; replayed?: boolean };
    expect(b).toMatchObject({ session_id: a.session_id, message_id: a.message_id, replayed: true });
    expect(await runtime.bus.queue("echo_agent").getJob(a.message_id)).toBeDefined();
    expect(await sessionsNamed(a.session_id)).toBe(1);
    // Without a key, the same body is a new request.
    const other = (await (await post({ text: "once only" })).json()) as { session_id: string };
    expect(other.session_id).not.toBe(a.session_id);
  });

  it("refuses the same key with a different body (422), and a key that is not printable ASCII (400)", async () => {
    expect((await post({ text: "first body" }, "key-reused")).status).toBe(202);
    const reused = await post({ text: "second body" }, "key-reused");
    expect(reused.status).toBe(422);
    expect(((await reused.json()) as { error: { code: string } }).error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const bad = await post({ text: "x" }, "has a space");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/Idempotency-Key must be 1 to 255 printable ASCII/);
  });
});

describe("a retry after the store failed the first try", () => {
  it("gives the first try's session, not a second one", async () => {
    const state: { mode: "ok" | "fail" | "hang" } = { mode: "fail" };
    const service = new RequestService({ bus: runtime.bus, db: flakyDb(runtime.store!.db, state), registry: runtime.registry, clock: runtime.clock, timezone: "UTC", entryAgent: "echo_agent" });
    // The message went out, then the session write failed: the client saw a 503.
    await expect(service.submit({ text: "retried after a 503" }, "api", { idempotencyKey: "key-503" })).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    state.mode = "ok";
    const retry = await service.submit({ text: "retried after a 503" }, "api", { idempotencyKey: "key-503" });
    expect(retry.replayed).toBe(true);
    expect(await sessionsNamed(retry.session_id)).toBe(1);
    const counts = await runtime.bus.queue("echo_agent").getJobs(["waiting", "active", "completed", "delayed"]);
    expect(counts.filter((j) => (j.data as { output: { content: { text: string } } }).output.content.text === "retried after a 503")).toHaveLength(1);
  });

  it("answers STORE_UNAVAILABLE within its deadline when the store hangs (a blackholed connection)", async () => {
    const state: { mode: "ok" | "fail" | "hang" } = { mode: "hang" };
    const service = new RequestService({ bus: runtime.bus, db: flakyDb(runtime.store!.db, state), registry: runtime.registry, clock: runtime.clock, timezone: "UTC", entryAgent: "echo_agent", storeDeadlineMs: 200 });
    const started = Date.now();
    await expect(service.submit({ text: "into the void" }, "api")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", message: expect.stringContaining("within 200 ms") });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
