/**
 * The audit log as a transparency log: the global commitment over all chains, signed checkpoints
 * kept outside the database, and what verification against them catches that the chains alone
 * cannot: a session deleted whole, rows edited and re-hashed by a superuser, a rollback.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCheckpoint } from "../../runtime/audit/checkpoint.ts";
import { LATEST, recordCheckpoint } from "../../runtime/audit/checkpoints.ts";
import { loadOrCreateSigningKey, type SigningKey } from "../../runtime/audit/keys.ts";
import { AuditWriter, applyRetention, insertWorkflowRecord, loadMigrations, migrate, verifyAudit, type Db } from "../../runtime/store/index.ts";
import { rowHash, type AuditContent, type AuditOutcome } from "../../runtime/store/audit-hash.ts";
import { canonicalJson } from "../../runtime/store/canonical.ts";
import { MerkleBuilder, appendLeaf, leafData, leafHash, type LeafRange } from "../../runtime/store/merkle.ts";
import type { CheckpointClaim, Problem } from "../../runtime/store/verify.ts";
import { BACKENDS, startBackend, type Harness } from "../helpers/pg.ts";
import { envelope } from "../store/fixtures.ts";

const quiet = { info() {}, warn() {}, error() {} };
const ORIGIN = "agentbus/test";

describe.each(BACKENDS)("global commitment and checkpoints on %s", (backend) => {
  let h: Harness;
  let dir: string;
  let key: SigningKey;
  beforeAll(async () => {
    h = await startBackend(backend, "commit");
    dir = await mkdtemp(join(tmpdir(), "agentbus-checkpoints-"));
    key = loadOrCreateSigningKey(join(dir, "keys", "audit-ed25519.pem"), ORIGIN);
  });
  afterAll(async () => {
    await h?.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function freshDb(tag: string): Promise<Db> {
    const db = h.openAt(h.endpoint.host, h.endpoint.port, { schema: h.freshSchema(tag) });
    await migrate(db);
    return db;
  }

  /** `hops` published + delivered rows per session, in several batches; a workflow record for each session. */
  async function fill(db: Db, sessions: string[], hops: number, from = 1, now?: () => Date): Promise<void> {
    const writer = new AuditWriter(db, { maxBatchRows: 5, flushIntervalMs: 1, logger: quiet, ...(now ? { clock: { now: () => now().getTime() } } : {}) });
    for (let seq = from; seq < from + hops; seq++) {
      for (const s of sessions) {
        writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope(s, seq) });
        writer.append({ outcome: "delivered", agent: "dispatch_agent", envelope: envelope(s, seq) });
      }
    }
    await writer.close();
    for (const s of sessions) {
      await insertWorkflowRecord(db, { session_id: s, request_id: `r-${s}`, status: "success", started_at: "2026-03-01T12:00:00Z", finished_at: "2026-03-01T12:01:00Z", request: { text: "t", category: "c" } });
    }
  }

  /** Runs SQL as a superuser with every trigger off (search_path at the schema), as an attacker with full access would. */
  async function tamper(db: Db, fn: (q: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>) => Promise<void>): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query(`SET LOCAL search_path TO "${db.schema}"`);
      await fn(async (sql, params) => (await tx.query(sql, params)).rows);
    });
  }

  /** What a careful forger does after changing rows: rebuild leaves and tree so the database agrees with itself. */
  async function rebuildCommitment(db: Db): Promise<void> {
    await tamper(db, async (q) => {
      const rows = await q(`SELECT chain_key, seq, hash FROM (SELECT chain_key, seq_in_chain AS seq, hash FROM audit_log UNION ALL SELECT chain_key, seq, hash FROM audit_pruned) e ORDER BY chain_key, seq`);
      // One leaf per row: at least as many leaves as the honest log had, so the log does not even look shorter.
      const ranges: LeafRange[] = rows.map((r) => ({ chainKey: r.chain_key as string, first: Number(r.seq), last: Number(r.seq), hashes: [r.hash as string] }));
      await q(`DELETE FROM audit_leaves`);
      const tree = new MerkleBuilder();
      let frontier: string[] = [];
      for (const range of ranges) {
        const leaf = leafHash(leafData([range]));
        frontier = appendLeaf(frontier, tree.size, leaf);
        tree.push(leaf);
        await q(`INSERT INTO audit_leaves (idx, ranges, row_count, leaf_hash, root) VALUES ($1, $2::jsonb, $3, $4, $5)`, [tree.size - 1, JSON.stringify([[range.chainKey, range.first, range.last]]), range.hashes.length, leaf, tree.root()]);
      }
      await q(`UPDATE audit_tree SET size = $1, root = $2, frontier = $3::text[]`, [tree.size, tree.root(), frontier]);
    });
  }

  /** Changes one row's agent and re-computes its hash, every later hash of the chain and the chain head. */
  async function editAndRehash(db: Db, chain: string, seq: number, agent: string): Promise<void> {
    await tamper(db, async (q) => {
      const rows = await q(`SELECT * FROM audit_log WHERE chain_key = $1 AND seq_in_chain >= $2 ORDER BY seq_in_chain`, [chain, seq]);
      let prev = rows[0]!.prev_hash as string;
      for (const r of rows) {
        const content: AuditContent = {
          chainKey: chain,
          sessionId: r.session_id as string,
          messageId: r.message_id as string,
          outcome: r.outcome as AuditOutcome,
          agent: Number(r.seq_in_chain) === seq ? agent : (r.agent as string),
          reasonsJson: r.reasons === null ? "null" : canonicalJson(r.reasons),
          envelopeJson: canonicalJson(r.envelope),
          recordedAt: (r.recorded_at as Date).toISOString(),
        };
        const hash = rowHash(content, Number(r.seq_in_chain), prev);
        await q(`UPDATE audit_log SET agent = $2, prev_hash = $3, hash = $4 WHERE id = $1`, [r.id, content.agent, prev, hash]);
        prev = hash;
      }
      await q(`UPDATE chain_heads SET last_hash = $2 WHERE chain_key = $1`, [chain, prev]);
    });
  }

  async function checkpoint(db: Db, sub: string): Promise<CheckpointClaim> {
    const { checkpoint: c, files } = await recordCheckpoint(db, key, { origin: ORIGIN, dir: join(dir, sub) });
    expect(files).toContain(join(dir, sub, LATEST));
    // What verification trusts: the exported file and the public key, never the database.
    const opened = openCheckpoint(await readFile(join(dir, sub, LATEST), "utf8"), { name: key.name, publicKey: key.publicKey });
    expect(opened).toEqual({ origin: ORIGIN, size: c.size, root: c.root });
    return { size: opened.size, root: opened.root };
  }

  const problems = (r: { broken: Array<{ problem: Problem }> }): Problem[] => [...new Set(r.broken.map((b) => b.problem))].sort();

  it("commits every batch as one leaf, in one order across writers, and verifies", async () => {
    const db = await freshDb("leaves");
    const other = h.openAt(h.endpoint.host, h.endpoint.port, { schema: db.schema });
    const writers = [db, other].map((d) => new AuditWriter(d, { maxBatchRows: 3, flushIntervalMs: 1, logger: quiet }));
    let flushes = 0;
    for (const w of writers) w.on("flushed", () => flushes++);
    for (let i = 1; i <= 30; i++) writers.forEach((w, k) => w.append({ outcome: "published", agent: `w${k}`, envelope: envelope(i % 2 ? "s-shared" : `s-own${k}`, i) }));
    await Promise.all(writers.map((w) => w.close()));
    const result = await verifyAudit(db, { graceMs: 0 });
    expect(result.broken).toEqual([]);
    expect(result.commitment?.size).toBe(flushes);
    const leaves = await db.query<{ n: string; rows: string }>(`SELECT count(*) AS n, sum(row_count) AS rows FROM "${db.schema}".audit_leaves`);
    expect(leaves.rows[0]).toEqual({ n: String(flushes), rows: "60" });
  });

  it("reports every broken chain, not only the first", async () => {
    const db = await freshDb("every");
    await fill(db, ["s-b1", "s-b2", "s-b3"], 3);
    await tamper(db, async (q) => {
      await q(`UPDATE audit_log SET agent = 'x' WHERE chain_key IN ('s-b1', 's-b3') AND seq_in_chain = 2`);
    });
    const result = await verifyAudit(db);
    expect(result.ok).toBe(false);
    expect(result.broken.map((b) => [b.problem, b.chainKey, b.seq])).toEqual([
      ["hash_mismatch", "s-b1", 2],
      ["hash_mismatch", "s-b3", 2],
    ]);
  });

  it("catches a session deleted whole (rows and chain head): sessions, workflow records and the commitment still name it", async () => {
    const db = await freshDb("delsession");
    await fill(db, ["s-k1", "s-gone", "s-k2"], 4);
    expect((await verifyAudit(db, { graceMs: 0 })).ok).toBe(true);
    await tamper(db, async (q) => {
      await q(`DELETE FROM audit_log WHERE chain_key = 's-gone'`);
      await q(`DELETE FROM chain_heads WHERE chain_key = 's-gone'`);
    });
    const result = await verifyAudit(db, { graceMs: 0 });
    expect(result.ok).toBe(false);
    expect(problems(result)).toEqual(["chain_missing", "leaf_rows_missing", "session_without_chain"]);
    expect(result.broken.find((b) => b.problem === "session_without_chain")).toMatchObject({ sessionId: "s-gone", message: expect.stringContaining("sessions, workflow_records") });
    expect(result.broken.find((b) => b.problem === "chain_missing")).toMatchObject({ chainKey: "s-gone" });
    // Rows waiting for their first flush are not mistaken for a deletion.
    expect((await verifyAudit(db, { graceMs: 3_600_000 })).broken.some((b) => b.problem === "session_without_chain")).toBe(false);
  });

  it("a checkpoint catches a session deleted whole by a forger who also rebuilt the commitment and removed its session rows", async () => {
    const db = await freshDb("forgedel");
    await fill(db, ["s-a", "s-victim", "s-c"], 3);
    const earlier = await checkpoint(db, "forgedel");
    await fill(db, ["s-c", "s-d"], 2, 10); // the log goes on after the checkpoint
    await tamper(db, async (q) => {
      for (const t of ["audit_log", "chain_heads", "sessions", "workflow_records"]) await q(`DELETE FROM ${t} WHERE ${t === "audit_log" || t === "chain_heads" ? "chain_key" : "session_id"} = 's-victim'`);
    });
    await rebuildCommitment(db);
    // The database now agrees with itself: nothing inside it shows the deletion.
    expect((await verifyAudit(db, { graceMs: 0 })).broken).toEqual([]);
    const result = await verifyAudit(db, { graceMs: 0, against: earlier });
    expect(result.ok).toBe(false);
    expect(problems(result)).toEqual(["checkpoint_mismatch"]);
    expect(result.checkpoint).toMatchObject({ size: earlier.size, consistent: false });
  });

  it("a checkpoint catches a row edited with every hash and head re-computed (triggers disabled)", async () => {
    const db = await freshDb("forgeedit");
    await fill(db, ["s-e1", "s-e2"], 3);
    const earlier = await checkpoint(db, "forgeedit");
    await editAndRehash(db, "s-e1", 2, "someone_else");
    // The chains alone are fooled; the commitment inside the database is not (its leaves no longer match) ...
    const inside = await verifyAudit(db, { graceMs: 0 });
    expect(inside.broken.filter((b) => b.problem === "hash_mismatch" || b.problem === "prev_hash_mismatch")).toEqual([]);
    expect(problems(inside)).toContain("leaf_mismatch");
    // ... until the forger rebuilds it too; then only the checkpoint outside the database shows it.
    await rebuildCommitment(db);
    expect((await verifyAudit(db, { graceMs: 0 })).ok).toBe(true);
    const result = await verifyAudit(db, { graceMs: 0, against: earlier });
    expect(problems(result)).toEqual(["checkpoint_mismatch"]);
  });

  it("a later checkpoint catches a rollback of the log to an older state", async () => {
    const db = await freshDb("rollback");
    const tables = ["audit_log", "chain_heads", "audit_pruned", "audit_leaves", "audit_tree", "sessions", "workflow_records"];
    await fill(db, ["s-r1", "s-r2"], 3);
    await tamper(db, async (q) => {
      for (const t of tables) await q(`CREATE TABLE snap_${t} AS TABLE ${t}`);
    });
    const older = await checkpoint(db, "rollback");
    await fill(db, ["s-r2", "s-r3"], 3, 10);
    const later = await checkpoint(db, "rollback");
    expect(later.size).toBeGreaterThan(older.size);
    // Restore the backup taken at the older state: a consistent log, only shorter.
    await tamper(db, async (q) => {
      for (const t of tables) {
        await q(`DELETE FROM ${t}`);
        await q(`INSERT INTO ${t} SELECT * FROM snap_${t}`);
      }
    });
    expect((await verifyAudit(db, { graceMs: 0 })).ok).toBe(true);
    expect((await verifyAudit(db, { graceMs: 0, against: older })).ok).toBe(true);
    const result = await verifyAudit(db, { graceMs: 0, against: later });
    expect(problems(result)).toEqual(["rollback"]);
    // And the periodic signer refuses to sign the rolled-back state.
    await expect(recordCheckpoint(db, key, { origin: ORIGIN, dir: join(dir, "rollback") })).rejects.toMatchObject({ code: "AUDIT_ROLLBACK" });
  });

  it("keeps verifying against a checkpoint after retention turned rows into stubs", async () => {
    const db = await freshDb("prune");
    let clock = new Date("2025-01-01T00:00:00.000Z");
    await fill(db, ["s-p1", "s-p2"], 4, 1, () => clock);
    const earlier = await checkpoint(db, "prune");
    clock = new Date("2026-06-01T00:00:00.000Z");
    await fill(db, ["s-p2"], 2, 10, () => clock);
    const { pruned } = await applyRetention(db, { olderThan: new Date("2026-01-01T00:00:00.000Z") });
    expect(pruned).toBe(8);
    const result = await verifyAudit(db, { graceMs: 0, against: earlier });
    expect(result).toMatchObject({ ok: true, pruned: 8, checkpoint: { consistent: true } });
    expect((await checkpoint(db, "prune")).size).toBeGreaterThan(earlier.size);
  });

  it("commits rows written before the commitment existed as leaf 0", async () => {
    const db = h.openAt(h.endpoint.host, h.endpoint.port, { schema: h.freshSchema("legacy") });
    const all = await loadMigrations();
    await migrate(db, { migrations: all.filter((m) => m.version < 3) });
    // Rows as the writer of migration 0002 wrote them: chains and heads, no leaves.
    await tamper(db, async (q) => {
      let prev = "0".repeat(64);
      for (let seq = 1; seq <= 3; seq++) {
        const content: AuditContent = { chainKey: "s-old", sessionId: "s-old", messageId: `m-${seq}`, outcome: "published", agent: "a", reasonsJson: "null", envelopeJson: canonicalJson(envelope("s-old", seq)), recordedAt: "2025-01-01T00:00:00.000Z" };
        const hash = rowHash(content, seq, prev);
        await q(`INSERT INTO audit_log (chain_key, seq_in_chain, session_id, message_id, outcome, agent, envelope, recorded_at, prev_hash, hash) VALUES ('s-old', $1, 's-old', $2, 'published', 'a', $3::jsonb, $4, $5, $6)`, [seq, content.messageId, content.envelopeJson, content.recordedAt, prev, hash]);
        prev = hash;
      }
      await q(`INSERT INTO chain_heads (chain_key, last_seq, last_hash) VALUES ('s-old', 3, $1)`, [prev]);
    });
    await migrate(db, { migrations: all });
    await fill(db, ["s-old", "s-new"], 2, 4);
    const result = await verifyAudit(db, { graceMs: 0 });
    expect(result.broken).toEqual([]);
    const leaf0 = await db.query<{ row_count: number; ranges: unknown }>(`SELECT row_count, ranges FROM "${db.schema}".audit_leaves WHERE idx = 0`);
    expect(leaf0.rows[0]).toEqual({ row_count: 3, ranges: [["s-old", 1, 3]] });
  });
});
