import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAgentbusError } from "../../runtime/errors/index.ts";
import { AuditWriter, UNSESSIONED, applyRetention, getTrace, migrate, retentionCutoff, verifyAudit, type AuditOutcome, type Db } from "../../runtime/store/index.ts";
import { rowHash, type AuditContent } from "../../runtime/store/audit-hash.ts";
import { canonicalJson } from "../../runtime/store/canonical.ts";
import { BACKENDS, startBackend, type Harness } from "../helpers/pg.ts";
import { envelope, hostileEnvelopes } from "./fixtures.ts";

const quiet = { info() {}, warn() {}, error() {} };

describe.each(BACKENDS)("audit log on %s", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBackend(backend, "audit");
  });
  afterAll(async () => {
    await h?.teardown();
  });

  /** A migrated schema of its own, for tests that tamper with the log. */
  async function freshDb(tag: string): Promise<Db> {
    const db = h.openAt(h.endpoint.host, h.endpoint.port, { schema: h.freshSchema(tag) });
    await migrate(db);
    return db;
  }

  /** Appends `n` hops (published + delivered) per session and flushes. */
  async function fill(db: Db, sessions: string[], hops: number): Promise<void> {
    const writer = new AuditWriter(db, { maxBatchRows: 25, flushIntervalMs: 5, logger: quiet });
    for (let seq = 1; seq <= hops; seq++) {
      for (const s of sessions) {
        const env = envelope(s, seq);
        writer.append({ outcome: "published", agent: "planning_agent", envelope: env });
        writer.append({ outcome: "delivered", agent: "dispatch_agent", envelope: env });
      }
    }
    await writer.close();
  }

  /** Runs SQL as a superuser with triggers off, as an attacker with full access would. */
  async function tamper(db: Db, sql: string, params: unknown[] = []): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query(sql.replace(/\b(audit_log|chain_heads)\b/g, `"${db.schema}".$1`), params);
    });
  }

  async function idOf(db: Db, session: string, seq: number): Promise<string> {
    const r = await db.query<{ id: string }>(`SELECT id FROM "${db.schema}".audit_log WHERE chain_key = $1 AND seq_in_chain = $2`, [session, seq]);
    return r.rows[0]!.id;
  }

  it("writes batches in one INSERT each, chains every session, and verifies", async () => {
    const db = await freshDb("batch");
    const writer = new AuditWriter(db, { maxBatchRows: 40, flushIntervalMs: 5, logger: quiet });
    const flushedSizes: number[] = [];
    writer.on("flushed", (e) => flushedSizes.push(e.rows));
    const sessions = ["s-a1", "s-b2", "s-c3"];
    let appended = 0;
    for (let seq = 1; seq <= 30; seq++) {
      for (const s of sessions) {
        writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope(s, seq) });
        writer.append({ outcome: "delivered", agent: "dispatch_agent", envelope: envelope(s, seq) });
        appended += 2;
      }
    }
    writer.append({ outcome: "rejected", agent: "bus", envelope: { broken: true }, reasons: [{ pointer: "/metadata", message: "must be object \u0000", rule: "schema" }] });
    for (const bad of hostileEnvelopes) writer.append({ outcome: "dead_lettered", agent: "bus", envelope: bad });
    appended += 1 + hostileEnvelopes.length;
    await writer.close();

    expect(writer.stats()).toMatchObject({ appended, written: appended, buffered: 0, flushErrors: 0 });
    expect(Math.max(...flushedSizes)).toBeLessThanOrEqual(40);
    expect(flushedSizes.reduce((a, b) => a + b, 0)).toBe(appended);
    expect(flushedSizes.length).toBeLessThan(appended / 10); // batched, not a round trip per row

    const result = await verifyAudit(db, { pageSize: 37 }); // a page size that splits chains
    expect(result).toMatchObject({ ok: true, rows: appended });
    expect(result.chains).toBe(sessions.length + 2); // + s-hostile + _unsessioned

    const chains = await db.query<{ chain_key: string; n: string; max: string }>(`SELECT chain_key, count(*) AS n, max(seq_in_chain) AS max FROM "${db.schema}".audit_log GROUP BY chain_key`);
    for (const c of chains.rows) expect(c.max).toBe(c.n); // seq 1..n without gaps
    const unsessioned = chains.rows.find((c) => c.chain_key === UNSESSIONED);
    expect(Number(unsessioned?.n)).toBe(7); // the rejected one, and every hostile envelope without a usable session id
    const asText = await db.query(`SELECT 1 FROM "${db.schema}".audit_log WHERE envelope_text IS NOT NULL`);
    expect(asText.rowCount).toBeGreaterThanOrEqual(3); // NUL, lone surrogates, NUL in session id
    expect((await verifyAudit(db, { sessionId: "s-b2" })).rows).toBe(60);
  });

  it("splits a batch past Postgres's 65535-parameter limit into several INSERTs in one transaction", async () => {
    const db = await freshDb("chunk");
    const inserts: Array<{ placeholders: number; last: number; params: number }> = [];
    let transactions = 0;
    // Records the audit_log INSERTs of every flush transaction.
    const recording: Db = {
      schema: db.schema,
      backend: db.backend,
      query: (text, params) => db.query(text, params),
      close: () => db.close(),
      transaction: (fn) =>
        db.transaction((tx) => {
          transactions++;
          return fn({
            query: (text, params) => {
              if (/^\s*INSERT INTO \S+"audit_log"/.test(text)) {
                const slots = text.match(/\$\d+/g) ?? [];
                inserts.push({ placeholders: slots.length, last: Number(slots.at(-1)?.slice(1)), params: params?.length ?? 0 });
              }
              return tx.query(text, params);
            },
          });
        }),
    };
    const writer = new AuditWriter(recording, { maxBatchRows: 12_000, maxBuffered: 50_000, flushIntervalMs: 60_000, logger: quiet });
    const tiny = (s: string, seq: number): Record<string, unknown> => ({ message_id: `m-${s}-${seq}`, metadata: { session_id: s, sequence_number: seq } });
    const rows = (n: number, tag: string): void => {
      for (let i = 0; i < n; i++) writer.append({ outcome: i % 2 ? "delivered" : "published", agent: "a", envelope: tiny(`s-${tag}${i % 97}`, Math.floor(i / 97) + 1) });
    };
    rows(11_000, "x"); // 5461 + 5461 + 78 rows
    await writer.flush();
    rows(30, "y"); // a smaller batch after a larger one
    await writer.flush();
    rows(5_462, "z"); // one past the limit
    await writer.close();

    expect(transactions).toBe(3);
    expect(inserts.map((i) => i.params / 12)).toEqual([5461, 5461, 78, 30, 5461, 1]);
    for (const i of inserts) {
      expect(i.params).toBeLessThanOrEqual(65_535);
      expect(i.placeholders).toBe(i.params); // $1 … $n, one per parameter
      expect(i.last).toBe(i.params);
    }
    expect(writer.stats()).toMatchObject({ appended: 16_492, written: 16_492, flushErrors: 0 });
    expect(await verifyAudit(db)).toMatchObject({ ok: true, rows: 16_492, chains: 97 + 30 + 97 });
  }, 60_000);

  it("refuses casual UPDATE, DELETE and TRUNCATE of audit rows", async () => {
    const db = await freshDb("guard");
    await fill(db, ["s-g1"], 2);
    const t = `"${db.schema}"`;
    for (const sql of [
      `UPDATE ${t}.audit_log SET agent = 'x'`,
      `DELETE FROM ${t}.audit_log WHERE seq_in_chain = 1`,
      `TRUNCATE ${t}.audit_log`,
      `DELETE FROM ${t}.chain_heads`,
      `UPDATE ${t}.chain_heads SET last_seq = 1`,
    ]) {
      await expect(db.query(sql), sql).rejects.toThrow(/append-only/);
    }
    // The retention switch only lets delivered rows be deleted, never updated.
    await expect(
      db.transaction(async (tx) => {
        await tx.query("SET LOCAL agentbus.retention = 'on'");
        await tx.query(`DELETE FROM ${t}.audit_log WHERE outcome = 'published'`);
      }),
    ).rejects.toThrow(/append-only/);
    expect((await verifyAudit(db)).ok).toBe(true);
  });

  it("names the row whose envelope a superuser edited", async () => {
    const db = await freshDb("edit");
    await fill(db, ["s-e1", "s-e2"], 5);
    const victim = await idOf(db, "s-e2", 4);
    await tamper(db, `UPDATE audit_log SET envelope = jsonb_set(envelope, '{status,message}', '"all good, honest"') WHERE id = $1`, [victim]);
    const result = await verifyAudit(db);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.broken[0]).toMatchObject({ problem: "hash_mismatch", id: victim, chainKey: "s-e2", sessionId: "s-e2", seq: 4 });
    expect((await verifyAudit(db, { sessionId: "s-e1" })).ok).toBe(true);
  });

  it("detects an edit whose author also re-computed the row's hash, at the next row", async () => {
    const db = await freshDb("rehash");
    await fill(db, ["s-r1"], 3);
    const victim = await idOf(db, "s-r1", 2);
    const row = (await db.query(`SELECT * FROM "${db.schema}".audit_log WHERE id = $1`, [victim])).rows[0]!;
    const forged: AuditContent = {
      chainKey: row.chain_key,
      sessionId: row.session_id,
      messageId: row.message_id,
      outcome: row.outcome,
      agent: "someone_else",
      reasonsJson: "null",
      envelopeJson: canonicalJson(row.envelope),
      recordedAt: (row.recorded_at as Date).toISOString(),
    };
    await tamper(db, `UPDATE audit_log SET agent = $2, hash = $3 WHERE id = $1`, [victim, forged.agent, rowHash(forged, 2, row.prev_hash)]);
    const result = await verifyAudit(db);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.broken[0]).toMatchObject({ problem: "prev_hash_mismatch", id: await idOf(db, "s-r1", 3), seq: 3 });
  });

  it("detects a deleted middle row and names the row after the gap", async () => {
    const db = await freshDb("delmid");
    await fill(db, ["s-d1"], 4);
    await tamper(db, `DELETE FROM audit_log WHERE chain_key = 's-d1' AND seq_in_chain = 3`);
    const result = await verifyAudit(db);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.broken[0]).toMatchObject({ problem: "missing_seq", id: await idOf(db, "s-d1", 4), seq: 4, chainKey: "s-d1" });
  });

  it("detects deletion of the newest rows of a chain, and of a whole chain", async () => {
    const db = await freshDb("deltail");
    await fill(db, ["s-t1", "s-t2"], 3);
    await tamper(db, `DELETE FROM audit_log WHERE chain_key = 's-t1' AND seq_in_chain >= 5`);
    const tail = await verifyAudit(db);
    expect(tail.ok).toBe(false);
    if (!tail.ok) expect(tail.broken[0]).toMatchObject({ problem: "missing_tail", chainKey: "s-t1", seq: 4 });
    expect((await verifyAudit(db, { sessionId: "s-t2" })).ok).toBe(true);
    await tamper(db, `DELETE FROM audit_log WHERE chain_key = 's-t2'`);
    const whole = await verifyAudit(db, { sessionId: "s-t2" });
    expect(whole.ok).toBe(false);
    if (!whole.ok) expect(whole.broken[0]).toMatchObject({ chainKey: "s-t2", id: null });
  });

  it("detects a row forged past the end of a chain, and a deleted chain head", async () => {
    const db = await freshDb("forge");
    await fill(db, ["s-f1", "s-f2"], 2);
    await db.query(
      `INSERT INTO "${db.schema}".audit_log (chain_key, seq_in_chain, session_id, outcome, agent, envelope, recorded_at, prev_hash, hash)
       SELECT chain_key, seq_in_chain + 1, session_id, outcome, agent, envelope, recorded_at, hash, hash FROM "${db.schema}".audit_log
       WHERE chain_key = 's-f1' AND seq_in_chain = 4`,
    );
    const forged = await verifyAudit(db, { sessionId: "s-f1" });
    expect(forged.ok).toBe(false);
    if (!forged.ok) expect(forged.broken[0]).toMatchObject({ problem: "beyond_head", seq: 5, id: await idOf(db, "s-f1", 5) });
    await tamper(db, `DELETE FROM chain_heads WHERE chain_key = 's-f2'`);
    const headless = await verifyAudit(db, { sessionId: "s-f2" });
    expect(headless.ok).toBe(false);
    if (!headless.ok) expect(headless.broken[0]).toMatchObject({ problem: "head_missing", chainKey: "s-f2" });
  });

  it("keeps one valid chain when several writers in several pools extend the same session", async () => {
    const db = await freshDb("conc");
    const other = h.openAt(h.endpoint.host, h.endpoint.port, { schema: db.schema });
    const writers = [db, db, other, other].map((d) => new AuditWriter(d, { maxBatchRows: 7, flushIntervalMs: 1, logger: quiet }));
    const perWriter = 60;
    for (let i = 0; i < perWriter; i++) {
      writers.forEach((w, k) => w.append({ outcome: "published", agent: `writer_${k}`, envelope: envelope("s-shared", i + 1, `writer_${k}`) }));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2)); // let flushes interleave
    }
    await Promise.all(writers.map((w) => w.close()));
    const result = await verifyAudit(db);
    expect(result).toMatchObject({ ok: true, chains: 1, rows: perWriter * writers.length });
    // Every writer's rows keep their append order within the chain.
    const rows = await db.query<{ agent: string; seq: string; n: number }>(
      `SELECT agent, seq_in_chain AS seq, (envelope->'metadata'->>'sequence_number')::int AS n FROM "${db.schema}".audit_log ORDER BY seq_in_chain`,
    );
    for (let k = 0; k < writers.length; k++) {
      const mine = rows.rows.filter((r) => r.agent === `writer_${k}`).map((r) => r.n);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  });

  it("verifies consistently while writers keep appending", async () => {
    const db = await freshDb("live");
    const writer = new AuditWriter(db, { maxBatchRows: 10, flushIntervalMs: 1, logger: quiet });
    let running = true;
    let seq = 0;
    const feeding = (async () => {
      while (running && seq < 150) {
        seq++;
        for (const s of ["s-l1", "s-l2", "s-l3"]) writer.append({ outcome: "published", agent: "a", envelope: envelope(s, seq) });
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    try {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const result = await verifyAudit(db, { pageSize: 7 });
        expect(result.ok, JSON.stringify(result)).toBe(true);
      }
    } finally {
      running = false;
      await feeding;
      await writer.close();
    }
    expect(await verifyAudit(db)).toMatchObject({ ok: true, rows: seq * 3 });
  });

  it("refuses events it cannot record and says which", async () => {
    const db = await freshDb("bad");
    const writer = new AuditWriter(db, { logger: quiet });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [event, code] of [
      [{ outcome: "lost" as AuditOutcome, agent: "a", envelope: {} }, "AUDIT_EVENT_INVALID"],
      [{ outcome: "published" as AuditOutcome, agent: "a", envelope: cyclic }, "AUDIT_EVENT_INVALID"],
      [{ outcome: "published" as AuditOutcome, agent: "a", envelope: { n: 10n } }, "AUDIT_EVENT_INVALID"],
    ] as const) {
      let thrown: unknown;
      try {
        writer.append(event);
      } catch (err) {
        thrown = err;
      }
      expect(isAgentbusError(thrown) && thrown.code).toBe(code);
    }
    await writer.close();
    expect(() => writer.append({ outcome: "published", agent: "a", envelope: {} })).toThrow(/closed/);
    expect(writer.stats().appended).toBe(0);
  });

  it("prunes old delivered rows only, and what remains still verifies; tampering is still caught", async () => {
    const db = await freshDb("retention");
    let clock = new Date("2025-01-01T00:00:00.000Z");
    const writer = new AuditWriter(db, { maxBatchRows: 16, flushIntervalMs: 5, logger: quiet, clock: { now: () => clock.getTime() } });
    const hop = (s: string, seq: number): void => {
      writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope(s, seq) });
      writer.append({ outcome: "delivered", agent: "dispatch_agent", envelope: envelope(s, seq) });
    };
    // s-old: finished long ago, ends on a delivered row (its chain head gets pruned).
    for (let i = 1; i <= 5; i++) hop("s-old", i);
    writer.append({ outcome: "rejected", agent: "bus", envelope: envelope("s-mix", 1), reasons: [{ pointer: "/x", message: "bad", rule: "schema" }] });
    for (let i = 2; i <= 4; i++) hop("s-mix", i);
    await writer.flush();
    clock = new Date("2026-06-01T00:00:00.000Z"); // s-mix goes on after the cutoff
    for (let i = 5; i <= 7; i++) hop("s-mix", i);
    await writer.close();

    const before = await verifyAudit(db);
    expect(before).toMatchObject({ ok: true, rows: 10 + 1 + 6 + 6, pruned: 0 });

    const { pruned } = await applyRetention(db, { olderThan: new Date("2026-01-01T00:00:00.000Z"), batchSize: 4 });
    expect(pruned).toBe(5 + 3);
    const left = await db.query<{ outcome: string; n: string }>(`SELECT outcome, count(*) AS n FROM "${db.schema}".audit_log GROUP BY outcome ORDER BY outcome`);
    expect(Object.fromEntries(left.rows.map((r) => [r.outcome, Number(r.n)]))).toEqual({ delivered: 3, published: 11, rejected: 1 });

    const after = await verifyAudit(db, { pageSize: 5 });
    expect(after).toMatchObject({ ok: true, chains: 2, rows: 15, pruned: 8 });
    expect(await applyRetention(db, { olderThan: new Date("2026-01-01T00:00:00.000Z") })).toEqual({ pruned: 0 });
    expect((await getTrace(db, "s-old")).map((e) => e.outcome)).toEqual(Array(5).fill("published"));

    // Stubs are append-only too, and a deletion among the remaining rows is still detected.
    await expect(db.query(`DELETE FROM "${db.schema}".audit_pruned`)).rejects.toThrow(/append-only/);
    await db.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query(`DELETE FROM "${db.schema}".audit_log WHERE chain_key = 's-old' AND seq_in_chain = 3`);
    });
    const broken = await verifyAudit(db);
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.broken[0]).toMatchObject({ problem: "missing_seq", chainKey: "s-old", seq: 4 });
  });
});

describe("audit retention period", () => {
  it("turns a retention period into a cutoff", () => {
    const now = new Date("2026-03-31T12:00:00.000Z");
    expect(retentionCutoff("P30D", now).toISOString()).toBe("2026-03-01T12:00:00.000Z");
    expect(() => retentionCutoff("thirty days", now)).toThrow(/ISO-8601/);
    expect(() => retentionCutoff("P0D", now)).toThrow(/positive/);
  });
});
