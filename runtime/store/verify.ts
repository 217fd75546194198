/**
 * Re-computes the audit hash chains and reports the first broken row.
 *
 * Streams the log in keyset pages ordered by (chain, seq), merging audit_log rows with the stubs
 * retention left in audit_pruned, so memory stays bounded by the page size. Each chain must run
 * seq 1, 2, 3, … with every row's prev_hash equal to its predecessor's hash, every row's hash equal
 * to the hash of its content, and its end equal to the chain's `chain_heads` entry (which is what
 * catches the deletion of the newest rows). Stubs stand for rows whose content was pruned: their
 * position and hashes are checked, their content no longer can be.
 *
 * Runs without one long transaction (which, on the embedded backend, would stall every writer).
 * Each chain is verified up to its head as read when the chain is first met, its "target": rows
 * appended while verification runs are left for the next run, so a busy chain cannot keep it
 * chasing new rows forever. A row past the target counts as new only if a fresh read of the head
 * covers it; otherwise it was not written by a writer and is reported.
 */
import { canonicalJson } from "./canonical.ts";
import { table, type Db } from "./db.ts";
import { GENESIS_HASH, UNSESSIONED, rowHash, type AuditContent, type AuditOutcome } from "./audit-hash.ts";
import { DEFAULT_LIMIT } from "./verify-limits.ts";
import { verifyCommitment } from "./verify-commitment.ts";
import { sessionsWithoutChain } from "./verify-sessions.ts";
import type { BrokenRow, VerifyOptions, VerifyResult, VerifyStats } from "./verify-types.ts";

export type { BrokenRow, ChainProblem, CheckpointClaim, CommitmentProblem, Problem, VerifyOptions, VerifyResult } from "./verify-types.ts";

/**
 * Everything at once: every chain, every session named in sessions / workflow_records, and (unless
 * one session is asked for) the global commitment, optionally against a checkpoint.
 */
export async function verifyAudit(db: Db, options: VerifyOptions = {}): Promise<VerifyResult> {
  const chains = await verifyChains(db, options);
  const broken = [...chains.broken, ...(await sessionsWithoutChain(db, options))];
  const result: VerifyResult = { ok: false, chains: chains.chains, rows: chains.rows, pruned: chains.pruned, broken };
  if (options.sessionId === undefined) {
    const c = await verifyCommitment(db, options);
    broken.push(...c.broken);
    result.commitment = c.commitment;
    if (c.checkpoint) result.checkpoint = c.checkpoint;
  }
  result.ok = broken.length === 0;
  return result;
}

interface Element {
  chain_key: string;
  seq: string;
  pruned: boolean;
  id: string;
  session_id: string | null;
  message_id: string | null;
  outcome: string;
  agent: string;
  reasons: unknown;
  envelope: unknown;
  envelope_text: string | null;
  recorded_at: Date;
  prev_hash: string;
  hash: string;
}

interface Head {
  last_seq: number;
  last_hash: string;
}

interface Chain {
  key: string;
  sessionId: string | null;
  /** The head as read when the chain was first met; verification of this run ends there. */
  target: Head | null;
  lastSeq: number;
  lastHash: string;
  lastId: string | null;
}

const MAX_SEQ = "9223372036854775807";


/** Walks every chain (or one) and reports each broken chain once, at its first broken row. */
export async function verifyChains(db: Db, options: VerifyOptions = {}): Promise<VerifyStats & { broken: BrokenRow[] }> {
  const pageSize = options.pageSize ?? 500;
  const limit = options.limit ?? DEFAULT_LIMIT;
  const only = options.sessionId;
  const stats: VerifyStats = { chains: 0, rows: 0, pruned: 0 };
  const heads = new Map<string, Head | null>();
  const t = { log: table(db, "audit_log"), pruned: table(db, "audit_pruned"), heads: table(db, "chain_heads") };

  const elementsSql = (extra: string): string =>
    `SELECT chain_key, seq, pruned, id, session_id, message_id, outcome, agent, reasons, envelope, envelope_text, recorded_at, prev_hash, hash
     FROM (
       SELECT chain_key, seq_in_chain AS seq, false AS pruned, id, session_id, message_id, outcome, agent, reasons, envelope, envelope_text, recorded_at, prev_hash, hash FROM ${t.log}
       UNION ALL
       SELECT chain_key, seq, true, audit_id, session_id, message_id, outcome, agent, NULL::jsonb, NULL::jsonb, NULL::text, recorded_at, prev_hash, hash FROM ${t.pruned}
     ) e
     WHERE ${extra}
     ORDER BY chain_key, seq, pruned
     LIMIT ${pageSize}`;

  const readHeads = async (keys: string[]): Promise<void> => {
    for (const k of keys) heads.set(k, null);
    const r = await db.query<{ chain_key: string; last_seq: string; last_hash: string }>(`SELECT chain_key, last_seq, last_hash FROM ${t.heads} WHERE chain_key = ANY($1::text[])`, [keys]);
    for (const h of r.rows) heads.set(h.chain_key, { last_seq: Number(h.last_seq), last_hash: h.last_hash });
  };

  const endCheck = (chain: Chain, target: Head): BrokenRow | null => {
    if (chain.lastHash === target.last_hash) return null;
    return { chainKey: chain.key, sessionId: chain.sessionId, id: chain.lastId, seq: chain.lastSeq, problem: "head_mismatch", message: "the chain ends on a different hash than its chain_heads entry" };
  };

  /** Checks one element; returns "past" when it lies beyond the chain's target (a newer row). */
  const step = async (chain: Chain, el: Element): Promise<BrokenRow | "past" | null> => {
    const seq = Number(el.seq);
    const at = { chainKey: chain.key, sessionId: el.session_id ?? chain.sessionId, id: el.id, seq };
    if (!chain.target) return { ...at, problem: "head_missing", message: "the chain has no chain_heads entry" };
    // Retention turned the row just verified into its stub between two pages: the same link, seen twice.
    if (el.pruned && seq === chain.lastSeq && el.hash === chain.lastHash) return null;
    if (seq <= chain.lastSeq) return { ...at, problem: "duplicate_seq", message: `seq ${seq} appears again after seq ${chain.lastSeq}` };
    if (seq > chain.lastSeq + 1) {
      const gap = seq - 1 === chain.lastSeq + 1 ? `seq ${chain.lastSeq + 1} is` : `seqs ${chain.lastSeq + 1}..${seq - 1} are`;
      return { ...at, problem: "missing_seq", message: `${gap} missing before this row (deleted)` };
    }
    if (seq > chain.target.last_seq) {
      // The chain is complete up to its target; this row is newer, or forged past the end.
      const end = endCheck(chain, chain.target);
      if (end) return end;
      await readHeads([chain.key]);
      const fresh = heads.get(chain.key);
      if (!fresh || fresh.last_seq < seq) return { ...at, problem: "beyond_head", message: `row is past the chain's recorded end (seq ${fresh?.last_seq ?? 0})` };
      return "past";
    }
    if (!el.pruned && rowHash(contentOf(el), seq, el.prev_hash) !== el.hash) {
      return { ...at, problem: "hash_mismatch", message: "content does not match its hash (row was modified)" };
    }
    if (el.prev_hash !== chain.lastHash) {
      return { ...at, problem: "prev_hash_mismatch", message: `prev_hash does not match the hash of seq ${chain.lastSeq} (that row was modified or replaced)` };
    }
    chain.lastSeq = seq;
    chain.lastHash = el.hash;
    chain.lastId = el.id;
    if (el.pruned) stats.pruned++;
    else stats.rows++;
    return null;
  };

  /** The stream for this chain ended: it must reach its target (rows up to it existed when it was read). */
  const finish = async (chain: Chain): Promise<BrokenRow | null> => {
    const target = chain.target;
    if (!target) return null; // reported by step on the chain's first row
    while (chain.lastSeq < target.last_seq) {
      const more = await db.query<Element>(elementsSql("chain_key = $1 AND seq > $2 AND seq <= $3"), [chain.key, chain.lastSeq, target.last_seq]);
      if (more.rows.length === 0) {
        return { chainKey: chain.key, sessionId: chain.sessionId, id: chain.lastId, seq: chain.lastSeq, problem: "missing_tail", message: `the chain ends at seq ${chain.lastSeq} but its head records seq ${target.last_seq}: the newest rows were deleted` };
      }
      for (const el of more.rows) {
        const broken = await step(chain, el);
        if (broken) return broken === "past" ? null : broken;
      }
    }
    return endCheck(chain, target);
  };

  const broken: BrokenRow[] = [];
  const report = (b: BrokenRow): void => {
    if (broken.length < limit) broken.push(b);
  };

  let cursor: [string, string, boolean] = ["", "0", false];
  let chain: Chain | undefined;
  let done = false; // the current chain reached its target, or broke; its later rows are skipped
  pages: for (;;) {
    if (broken.length >= limit) break;
    const params: unknown[] = [...cursor];
    let where = "(chain_key, seq) >= ($1, $2) AND (chain_key, seq, pruned) > ($1, $2, $3)";
    if (only !== undefined) {
      params.push(only);
      where += " AND chain_key = $4";
    }
    const page = await db.query<Element>(elementsSql(where), params);
    const unknown = [...new Set(page.rows.map((r) => r.chain_key))].filter((k) => !heads.has(k));
    if (unknown.length > 0) await readHeads(unknown); // after the rows: a head covers every row read before it
    for (const el of page.rows) {
      if (!chain || chain.key !== el.chain_key) {
        if (chain && !done) {
          const end = await finish(chain);
          if (end) report(end);
        }
        if (chain) heads.delete(chain.key);
        chain = { key: el.chain_key, sessionId: el.session_id, target: heads.get(el.chain_key) ?? null, lastSeq: 0, lastHash: GENESIS_HASH, lastId: null };
        done = false;
        stats.chains++;
      }
      const result = await step(chain, el);
      if (result) {
        // A chain past its first break says nothing more that can be trusted: report it, go on with the next chain.
        if (result !== "past") report(result);
        done = true;
        cursor = [chain.key, MAX_SEQ, true]; // jump to the next chain
        continue pages;
      }
    }
    const last = page.rows[page.rows.length - 1];
    if (!last || page.rows.length < pageSize) break;
    cursor = [last.chain_key, last.seq, last.pruned];
  }
  if (chain && !done) {
    const end = await finish(chain);
    if (end) report(end);
  }

  // Chains whose every row is gone never appear in the stream above; their heads still do.
  const orphans = await db.query<{ chain_key: string; last_seq: string }>(
    `SELECT h.chain_key, h.last_seq FROM ${t.heads} h
     WHERE h.last_seq > 0 ${only !== undefined ? "AND h.chain_key = $1" : ""}
       AND NOT EXISTS (SELECT 1 FROM ${t.log} a WHERE a.chain_key = h.chain_key)
       AND NOT EXISTS (SELECT 1 FROM ${t.pruned} p WHERE p.chain_key = h.chain_key)
     ORDER BY h.chain_key LIMIT ${limit}`,
    only !== undefined ? [only] : [],
  );
  for (const gone of orphans.rows) {
    const sessionId = gone.chain_key === UNSESSIONED ? null : gone.chain_key;
    report({ problem: "missing_seq", chainKey: gone.chain_key, sessionId, id: null, seq: 1, message: `all ${gone.last_seq} rows of the chain are gone` });
  }
  return { ...stats, broken };
}

function contentOf(el: Element): AuditContent {
  return {
    chainKey: el.chain_key,
    sessionId: el.session_id,
    messageId: el.message_id,
    outcome: el.outcome as AuditOutcome,
    agent: el.agent,
    reasonsJson: el.reasons === null ? "null" : canonicalJson(el.reasons),
    envelopeJson: el.envelope_text ?? canonicalJson(el.envelope),
    recordedAt: el.recorded_at.toISOString(),
  };
}
