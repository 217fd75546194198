import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAgentbusError } from "../../runtime/errors/index.ts";
import {
  AuditWriter,
  canonicalJson,
  getSession,
  getTrace,
  insertWorkflowRecord,
  listWorkflowRecords,
  streamWindow,
  upsertSession,
  type WorkflowRecordInput,
} from "../../runtime/store/index.ts";
import { BACKENDS, startBackend, type Harness } from "../helpers/pg.ts";
import { envelope, hostileEnvelopes } from "./fixtures.ts";

const quiet = { info() {}, warn() {}, error() {} };

function record(i: number, finishedAt: string, extra: Partial<WorkflowRecordInput> = {}): WorkflowRecordInput {
  return {
    session_id: `s-wf${String(i).padStart(4, "0")}`,
    request_id: `r-wf${i}`,
    request: { text: `request ${i}`, category: i % 2 ? "video" : "text" },
    started_at: "2026-03-01T00:00:00.000Z",
    finished_at: finishedAt,
    status: i % 3 ? "success" : "failed",
    plan: [{ task_id: "t1", capability: "fetch", depends_on: [] }],
    tasks: [{ task_id: "t1", capability: "fetch", status: "success", attempts: 1 }],
    rules_applied: [],
    ...extra,
  };
}

describe.each(BACKENDS)("sessions, traces and workflow records on %s", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBackend(backend, "sessions");
  });
  afterAll(async () => {
    await h?.teardown();
  });

  it("upserts sessions idempotently and out of order", async () => {
    const db = h.db;
    const started = new Date("2026-03-01T10:00:00.000Z");
    const first = await upsertSession(db, { sessionId: "s-up1", requestId: "r-up1", startedAt: started });
    expect(first).toMatchObject({ sessionId: "s-up1", requestId: "r-up1", status: "running", finishedAt: null, answer: null, lastSeq: 0 });
    expect(first.startedAt.toISOString()).toBe(started.toISOString());
    await upsertSession(db, { sessionId: "s-up1", lastSeq: 4 });
    await upsertSession(db, { sessionId: "s-up1", lastSeq: 2 }); // a late, lower one does not lower it
    const done = await upsertSession(db, { sessionId: "s-up1", status: "success", finishedAt: new Date("2026-03-01T10:00:05.000Z"), answer: { text: "42", refs: ["src_1"] } });
    expect(done).toMatchObject({ status: "success", lastSeq: 4, requestId: "r-up1", answer: { text: "42", refs: ["src_1"] } });
    // A redelivered "running" must not reopen it, and absent fields keep their value.
    const again = await upsertSession(db, { sessionId: "s-up1", status: "running", startedAt: new Date("2026-03-01T11:00:00.000Z") });
    expect(again).toMatchObject({ status: "success", answer: { text: "42", refs: ["src_1"] } });
    expect(again.startedAt.toISOString()).toBe(started.toISOString());
    expect(await getSession(db, "s-nope")).toBeNull();
    const err: unknown = await upsertSession(db, { sessionId: "" }).catch((e: unknown) => e);
    expect(isAgentbusError(err) && err.code).toBe("SESSION_INVALID");
  });

  it("traces a session in sequence order, published before delivered, and keeps hostile envelopes exact", async () => {
    const db = h.db;
    const writer = new AuditWriter(db, { maxBatchRows: 5, flushIntervalMs: 1, logger: quiet });
    // Appended out of order (as concurrent workers would), across several batches.
    for (const seq of [3, 1, 4, 2]) {
      writer.append({ outcome: "published", agent: `agent_${seq}`, envelope: envelope("s-tr1", seq) });
      writer.append({ outcome: "delivered", agent: `agent_${seq + 1}`, envelope: envelope("s-tr1", seq) });
    }
    writer.append({ outcome: "dead_lettered", agent: "bus", envelope: { metadata: { session_id: "s-tr1" } }, reasons: [{ pointer: "/metadata/sequence_number", message: "is required", rule: "schema" }] });
    for (const bad of hostileEnvelopes) writer.append({ outcome: "rejected", agent: "bus", envelope: bad });
    await writer.close();

    const trace = await getTrace(db, "s-tr1");
    expect(trace.map((e) => [e.sequenceNumber, e.outcome])).toEqual([
      [1, "published"], [1, "delivered"], [2, "published"], [2, "delivered"],
      [3, "published"], [3, "delivered"], [4, "published"], [4, "delivered"],
      [null, "dead_lettered"],
    ]);
    expect(trace[8]!.reasons).toEqual([{ pointer: "/metadata/sequence_number", message: "is required", rule: "schema" }]);
    expect(trace[0]!.envelope).toEqual(envelope("s-tr1", 1));

    const hostile = await getTrace(db, "s-hostile");
    expect(hostile.map((e) => canonicalJson(e.envelope))).toEqual(hostileEnvelopes.slice(0, 3).map((e) => canonicalJson(e)));
    expect(await getTrace(db, "s-none")).toEqual([]);
  });

  it("inserts workflow records once, lists and streams a time window in order", async () => {
    const db = h.db;
    const base = Date.parse("2026-03-02T00:00:00.000Z");
    const total = 45;
    for (let i = 0; i < total; i++) {
      // Microsecond precision on purpose: keyset paging must not lose or repeat rows at the boundaries.
      const finished = `${new Date(base + Math.floor(i / 3) * 60_000).toISOString().slice(0, 23)}${i % 3}01Z`; // e.g. …:05:00.000101Z
      expect(await insertWorkflowRecord(db, record(i, finished))).toEqual({ inserted: true });
    }
    expect(await insertWorkflowRecord(db, record(0, "2026-03-02T00:00:00.000Z", { status: "partial" }))).toEqual({ inserted: false });

    const from = new Date(base);
    const to = new Date(base + 10 * 60_000); // minutes 0..9 → records 0..29
    const listed = await listWorkflowRecords(db, { from, to });
    expect(listed.map((r) => r.sessionId)).toEqual(Array.from({ length: 30 }, (_, i) => record(i, "").session_id));
    expect(listed[0]).toMatchObject({ status: "failed", category: "text", record: { request: { text: "request 0" } } });
    expect((await listWorkflowRecords(db, { from, to, status: "failed" })).length).toBe(10);
    expect((await listWorkflowRecords(db, { from, to, category: "video", limit: 4 })).map((r) => r.sessionId)).toEqual(["s-wf0001", "s-wf0003", "s-wf0005", "s-wf0007"]);

    const streamed: string[] = [];
    for await (const r of streamWindow(db, from, to, { pageSize: 4 })) streamed.push(r.sessionId);
    expect(streamed).toEqual(listed.map((r) => r.sessionId));
    const all: string[] = [];
    for await (const r of streamWindow(db, new Date(0), new Date(base + 3600_000), { pageSize: 7 })) all.push(r.sessionId);
    expect(all.length).toBe(total);
    expect(new Set(all).size).toBe(total);

    const err: unknown = await insertWorkflowRecord(db, { ...record(99, "yesterday"), session_id: "" }).catch((e: unknown) => e);
    expect(isAgentbusError(err) && err.issues.map((i) => i.pointer)).toEqual(["/session_id", "/finished_at"]);
  });
});
