import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfrastructureError, isAgentbusError } from "../../runtime/errors/index.ts";
import { AuditWriter, getTrace, verifyAudit, type Db } from "../../runtime/store/index.ts";
import { BACKENDS, recordingLogger, startBackend, type Harness } from "../helpers/pg.ts";
import { envelope } from "./fixtures.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(BACKENDS)("audit writer while Postgres is unreachable, on %s", (backend) => {
  let h: Harness;
  let proxy: TcpProxy;
  beforeAll(async () => {
    h = await startBackend(backend, "outage");
    proxy = await startTcpProxy(h.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await h?.teardown();
  });

  it("buffers during the outage, refuses at the bound, flushes on return: zero rows lost", async () => {
    const logger = recordingLogger();
    const db = h.openAt("127.0.0.1", proxy.port, { logger, connectionTimeoutMs: 500 });
    const writer = new AuditWriter(db, { flushIntervalMs: 10, maxBatchRows: 40, maxBuffered: 300, retryBaseMs: 20, retryMaxMs: 100, logger });
    const events: string[] = [];
    writer.on("refusing", () => events.push("refusing"));
    writer.on("accepting", () => events.push("accepting"));
    let seq = 0;
    const append = (): void => writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope("s-outage", ++seq) });

    for (let i = 0; i < 50; i++) append();
    await writer.flush();
    expect(writer.stats()).toMatchObject({ written: 50, buffered: 0 });

    proxy.cut();
    for (let i = 0; i < 100; i++) append();
    await until("failed flushes", () => writer.stats().flushErrors >= 2);
    expect(writer.stats()).toMatchObject({ written: 50, buffered: 100, accepting: true });
    await expect(writer.flush()).rejects.toSatisfy((e) => isAgentbusError(e) && e.code === "STORE_UNAVAILABLE");

    for (let i = 0; i < 200; i++) append(); // reaches the bound exactly
    expect(writer.accepting).toBe(false);
    expect(events).toEqual(["refusing"]);
    let refused: unknown;
    try {
      writer.admit(); // the gate for new requests
    } catch (err) {
      refused = err;
    }
    expect(isAgentbusError(refused) && refused.code).toBe("AUDIT_BUFFER_FULL");
    expect(writer.stats()).toMatchObject({ buffered: 300, refused: 1 });
    // Work already in flight still records its evidence, up to the hard limit (2 × the bound).
    for (let i = 0; i < 300; i++) append();
    expect(() => append()).toThrow(/AUDIT_BUFFER_FULL|audit buffer is full/);
    expect(writer.stats()).toMatchObject({ buffered: 600, refused: 2 });
    expect(logger.entries.some((e) => e.level === "error" && /AUDIT BUFFER FULL/.test(e.msg ?? ""))).toBe(true);

    proxy.restore();
    await until("the buffer to drain", () => writer.stats().buffered === 0);
    expect(writer.accepting).toBe(true);
    expect(events).toEqual(["refusing", "accepting"]);
    await writer.close();

    expect(writer.stats()).toMatchObject({ appended: 650, written: 650 });
    expect(await verifyAudit(h.db, { sessionId: "s-outage" })).toMatchObject({ ok: true, rows: 650 });
    const trace = await getTrace(h.db, "s-outage");
    expect(trace.map((e) => e.sequenceNumber)).toEqual(Array.from({ length: 650 }, (_, i) => i + 1));
    expect(trace.map((e) => e.seqInChain)).toEqual(Array.from({ length: 650 }, (_, i) => i + 1)); // in append order, once each
  });

  it("does not write a batch twice when the commit went through but its acknowledgement was lost", async () => {
    let loseAck = 1;
    const ackLosing: Db = Object.create(h.db, {
      transaction: {
        value: async <T>(fn: Parameters<Db["transaction"]>[0]): Promise<T> => {
          const result = (await h.db.transaction(fn)) as T;
          if (loseAck-- > 0) throw new InfrastructureError("STORE_UNAVAILABLE", "connection lost after COMMIT was sent");
          return result;
        },
      },
    }) as Db;
    const writer = new AuditWriter(ackLosing, { flushIntervalMs: 5, retryBaseMs: 5, logger: recordingLogger() });
    for (let i = 1; i <= 20; i++) writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope("s-ack", i) });
    await until("the retried flush", () => writer.stats().written === 20);
    await writer.close();
    expect(writer.stats().flushErrors).toBe(1);
    expect(await verifyAudit(h.db, { sessionId: "s-ack" })).toMatchObject({ ok: true, rows: 20 });
  });

  it("survives a server that stops answering without closing connections (a paused server)", async () => {
    const logger = recordingLogger();
    const db = h.openAt("127.0.0.1", proxy.port, { logger, connectionTimeoutMs: 300, queryTimeoutMs: 300 });
    const writer = new AuditWriter(db, { flushIntervalMs: 5, retryBaseMs: 20, retryMaxMs: 60, logger });
    let seq = 0;
    const append = (): void => writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope("s-paused", ++seq) });
    for (let i = 0; i < 10; i++) append();
    await writer.flush();
    proxy.stall();
    for (let i = 0; i < 30; i++) append();
    await until("flushes to time out", () => writer.stats().flushErrors >= 1);
    expect(writer.stats()).toMatchObject({ written: 10, buffered: 30 });
    proxy.restore();
    await until("the buffer to drain", () => writer.stats().buffered === 0);
    await writer.close();
    expect(await verifyAudit(h.db, { sessionId: "s-paused" })).toMatchObject({ ok: true, rows: 40 });
    expect((await getTrace(h.db, "s-paused")).map((e) => e.sequenceNumber)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});
