/**
 * The review service: every decision on a proposed rule, framework-free (the HTTP adapter and the
 * CLI call the same methods, so the checks and the audit entries are the same for both).
 *
 * - pending → approved | rejected; approved → retired; approved | retired → rolled back to any
 *   approved version. Editing makes a new version, which needs its own approval.
 * - An approval names the content hash the reviewer saw; if the rule changed since, it is refused.
 * - The proposer (the learning agent) can never approve; viewers decide nothing.
 * - Idempotent: a decision that is already in force returns the decision that put it there.
 * - Each decision is one transaction (row lock on the proposal) in which the file is written
 *   (through MemoryWriter, the only writer of the memory root) before commit; if the commit fails
 *   the previous file is put back. After commit the decision goes to the audit log's '_rules' chain.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentbusError } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import { MEMORY_RULE_SCHEMA_ID, schemaRegistry, type SchemaRegistry } from "../schemas/registry.ts";
import { RULES_CHAIN } from "../store/audit-hash.ts";
import type { AuditWriter } from "../store/audit-writer.ts";
import { canonicalJson } from "../store/canonical.ts";
import { table, type Db, type Queryable } from "../store/db.ts";
import { contentHash, PROPOSER } from "../rules/content.ts";
import type { RuleFile } from "../rules/file-format.ts";
import type { MemoryWriter } from "../rules/writer.ts";
import { getRule, listRules, proposalRow, reviewable, versions, type ListFilter, type ProposalRow } from "./rule-store.ts";
import type { Actor, Decision, DecisionAction, DecisionResult, EditableFields, RuleDetail, RuleSummary, RuleVersion, VersionContent } from "./types.ts";

export interface ReviewServiceOptions {
  db: Db;
  writer: MemoryWriter;
  /** Where decisions are recorded; without it the service only reads. */
  audit?: AuditWriter | undefined;
  clock: Clock;
  /** Prefix of recorded file paths (repo-relative), default context/memory. */
  pathPrefix?: string;
  registry?: SchemaRegistry;
  /** Called after a decision has committed: the rules loader re-reads at once instead of at its next rescan. */
  onDecided?: (decision: Decision) => void;
}

interface Change {
  action: DecisionAction;
  version: number | null;
  hash: string | null;
  reason: string | null;
  change: Record<string, unknown>;
  file?: { path: string; sha256: string } | null;
  rollout?: number | null;
}

export class ReviewService {
  private readonly db: Db;
  private readonly writer: MemoryWriter;
  private readonly audit: AuditWriter | undefined;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly registry: SchemaRegistry;
  private readonly onDecided: ((decision: Decision) => void) | undefined;

  constructor(o: ReviewServiceOptions) {
    this.onDecided = o.onDecided;
    this.db = o.db;
    this.writer = o.writer;
    this.audit = o.audit;
    this.clock = o.clock;
    this.prefix = o.pathPrefix ?? "context/memory";
    this.registry = o.registry ?? schemaRegistry();
  }

  list(filter: ListFilter = {}): Promise<RuleSummary[]> {
    return listRules(this.db, filter);
  }

  async get(ruleId: string): Promise<RuleDetail> {
    const r = await getRule(this.db, ruleId);
    if (!r) throw new AgentbusError("NOT_FOUND", `rule ${ruleId} not found`);
    return r;
  }

  /** sha256 of every approved rule's file as its last decision wrote it, keyed by <agent>/<rule_id>.md (for the loader). */
  async approvedFiles(): Promise<Map<string, string>> {
    const r = await this.db.query<{ file_path: string; file_sha256: string }>(
      `SELECT DISTINCT ON (d.rule_id) d.file_path, d.file_sha256 FROM ${table(this.db, "rule_decisions")} d
       JOIN ${table(this.db, "rule_proposals")} p ON p.rule_id = d.rule_id AND p.state = 'approved'
       WHERE d.file_sha256 IS NOT NULL ORDER BY d.rule_id, d.decision_id DESC`,
    );
    return new Map(r.rows.map((row) => [row.file_path.slice(this.prefix.length + 1), row.file_sha256]));
  }

  /** Approves what the reviewer saw (`content_hash`), for `rollout_percent` of sessions (default all). */
  async approve(actor: Actor, ruleId: string, input: { content_hash: string; rollout_percent?: number; reason?: string }): Promise<DecisionResult> {
    mayApprove(actor);
    const rollout = checkRollout(input.rollout_percent ?? 100);
    return this.decide(actor, ruleId, async (tx, row, now) => {
      if (row.proposed_by === actor.name) throw new AgentbusError("FORBIDDEN", `${actor.name} proposed ${ruleId} and cannot approve it`);
      const current = reviewable(row);
      if (contentHash(current) !== input.content_hash) throw new AgentbusError("RULE_CHANGED", `${ruleId} changed since it was shown (content hash differs): reload it and review again`);
      if (row.state === "approved" && row.latest_version === row.active_version && row.rollout_percent === rollout) return null;
      if (row.state !== "pending" && row.state !== "approved") throw new AgentbusError("RULE_STATE", `${ruleId} is ${row.state}; only a pending rule (or a new version of an approved one) can be approved${row.state === "retired" ? " (roll it back to a version to restore it)" : ""}`);
      let version = row.latest_version;
      if (version === null) version = await this.addVersion(tx, ruleId, 1, current, "proposed", null, row.proposed_by, now);
      await tx.query(`UPDATE ${table(this.db, "rule_versions")} SET approved_by = $3, approved_at = $4 WHERE rule_id = $1 AND version = $2 AND approved_by IS NULL`, [ruleId, version, actor.name, now]);
      const file = await this.writeFile(ruleId, current, version, rollout, actor.name, now, row);
      await this.setState(tx, ruleId, "approved", version, rollout);
      const from = { state: row.state, version: row.active_version, rollout_percent: row.rollout_percent };
      return { action: "approve", version, hash: input.content_hash, reason: input.reason ?? null, change: { from, to: { state: "approved", version, rollout_percent: rollout } }, file, rollout };
    });
  }

  /** A new version with the reviewer's edits; with `approve`, approved in the same step. */
  async edit(actor: Actor, ruleId: string, input: { fields: Partial<EditableFields>; based_on_hash: string; approve?: boolean; rollout_percent?: number; reason?: string }): Promise<DecisionResult> {
    mayApprove(actor);
    const edited = await this.decide(actor, ruleId, async (tx, row, now) => {
      if (row.state === "rejected" || row.state === "retired") throw new AgentbusError("RULE_STATE", `${ruleId} is ${row.state}; it cannot be edited`);
      const current = reviewable(row);
      if (contentHash(current) !== input.based_on_hash) throw new AgentbusError("RULE_CHANGED", `${ruleId} changed since it was shown (content hash differs): reload it and edit again`);
      const next: VersionContent = { ...current, ...pickEditable(input.fields) };
      if (next.effect === undefined) delete next.effect;
      const nextHash = contentHash({ ...next, rule_id: ruleId });
      if (nextHash === input.based_on_hash) return null; // nothing changed
      this.checkShape(ruleId, next, row.rollout_percent);
      const version = (row.latest_version ?? 0) + 1;
      await this.addVersion(tx, ruleId, version, next, "edited", row.latest_version, actor.name, now);
      const fields = (["trigger_condition", "instruction", "rationale", "effect"] as const).filter((k) => canonicalJson(current[k] ?? null) !== canonicalJson(next[k] ?? null));
      return { action: "edit", version, hash: nextHash, reason: input.reason ?? null, change: { from_version: row.latest_version, to_version: version, fields, before: pick(current, fields), after: pick(next, fields) } };
    });
    if (!input.approve) return edited;
    const approved = await this.approve(actor, ruleId, { content_hash: edited.decision.content_hash ?? input.based_on_hash, ...(input.rollout_percent !== undefined ? { rollout_percent: input.rollout_percent } : {}), ...(input.reason !== undefined ? { reason: input.reason } : {}) });
    return { decision: approved.decision, replayed: edited.replayed && approved.replayed };
  }

  async reject(actor: Actor, ruleId: string, input: { reason: string }): Promise<DecisionResult> {
    mayApprove(actor);
    const reason = needReason(input.reason);
    return this.decide(actor, ruleId, async (_tx, row) => {
      if (row.state === "rejected") return null;
      if (row.state !== "pending") throw new AgentbusError("RULE_STATE", `${ruleId} is ${row.state}; only a pending rule can be rejected`);
      const hash = contentHash(reviewable(row));
      await this.setState(_tx, ruleId, "rejected", row.active_version, row.rollout_percent);
      return { action: "reject", version: row.latest_version, hash, reason, change: { from: { state: row.state }, to: { state: "rejected" } } };
    });
  }

  async retire(actor: Actor, ruleId: string, input: { reason: string }, action: "retire" | "auto_retire" = "retire"): Promise<DecisionResult> {
    if (action === "retire") mayApprove(actor);
    const reason = needReason(input.reason);
    return this.decide(actor, ruleId, async (tx, row) => {
      if (row.state === "retired") return null;
      if (row.state !== "approved") throw new AgentbusError("RULE_STATE", `${ruleId} is ${row.state}; only an approved rule can be retired`);
      await this.writer.remove(row.target_agent, ruleId);
      await this.setState(tx, ruleId, "retired", row.active_version, row.rollout_percent);
      return { action, version: row.active_version, hash: null, reason, change: { from: { state: "approved", version: row.active_version }, to: { state: "retired" } }, file: null };
    });
  }

  /** Puts an earlier approved version back in force, as a new version with the same content. */
  async rollback(actor: Actor, ruleId: string, input: { to_version: number; reason: string }): Promise<DecisionResult> {
    mayApprove(actor);
    const reason = needReason(input.reason);
    return this.decide(actor, ruleId, async (tx, row, now) => {
      if (row.proposed_by === actor.name) throw new AgentbusError("FORBIDDEN", `${actor.name} proposed ${ruleId} and cannot approve any version of it`);
      if (row.state !== "approved" && row.state !== "retired") throw new AgentbusError("RULE_STATE", `${ruleId} is ${row.state}; only an approved or retired rule can be rolled back`);
      const all = await versions(this.db, tx, ruleId);
      const target = all.find((v) => v.version === input.to_version);
      if (!target || !target.approved_by) throw new AgentbusError("RULE_STATE", `${ruleId} has no approved version ${input.to_version} (approved: ${all.filter((v) => v.approved_by).map((v) => v.version).join(", ") || "none"})`);
      const active = all.find((v) => v.version === row.active_version);
      if (row.state === "approved" && active?.content_hash === target.content_hash) return null;
      const version = (row.latest_version ?? 0) + 1;
      await this.addVersion(tx, ruleId, version, target.content, "rollback", target.version, actor.name, now, actor.name);
      const file = await this.writeFile(ruleId, target.content, version, row.rollout_percent, actor.name, now, row);
      await this.setState(tx, ruleId, "approved", version, row.rollout_percent);
      return { action: "rollback", version, hash: target.content_hash, reason, change: { from: { state: row.state, version: row.active_version }, to: { state: "approved", version, same_as: target.version } }, file, rollout: row.rollout_percent };
    });
  }

  /** Changes the share of sessions an approved rule applies to (100: everyone). */
  async promote(actor: Actor, ruleId: string, input: { rollout_percent?: number; reason?: string }): Promise<DecisionResult> {
    mayApprove(actor);
    const rollout = checkRollout(input.rollout_percent ?? 100);
    return this.decide(actor, ruleId, async (tx, row, now) => {
      if (row.state !== "approved" || row.active_version === null) throw new AgentbusError("RULE_STATE", `${ruleId} is ${row.state}; only an approved rule's rollout can change`);
      if (row.rollout_percent === rollout) return null;
      const active = (await versions(this.db, tx, ruleId)).find((v) => v.version === row.active_version);
      if (!active) throw new AgentbusError("RULE_STATE", `${ruleId} has lost its version ${row.active_version}`);
      const file = await this.writeFile(ruleId, active.content, active.version, rollout, active.approved_by ?? actor.name, active.approved_at ? active.approved_at.getTime() : now.getTime(), row);
      await this.setState(tx, ruleId, "approved", row.active_version, rollout);
      return { action: "promote", version: row.active_version, hash: active.content_hash, reason: input.reason ?? null, change: { from: { rollout_percent: row.rollout_percent }, to: { rollout_percent: rollout } }, file, rollout };
    });
  }

  /** Runs `fn` under the proposal's row lock; null from fn means "already so": the last decision is returned. */
  private async decide(actor: Actor, ruleId: string, fn: (tx: Queryable, row: ProposalRow, now: Date) => Promise<Change | null>): Promise<DecisionResult> {
    if (!this.audit) throw new AgentbusError("AUDIT_REQUIRED", "decisions are recorded in the audit log: open the review service with an audit writer");
    const audit = this.audit;
    const now = new Date(this.clock.now());
    let restore: (() => Promise<void>) | undefined;
    let result: DecisionResult;
    try {
      result = await this.db.transaction(async (tx) => {
        const row = await proposalRow(this.db, tx, ruleId, true);
        if (!row) throw new AgentbusError("NOT_FOUND", `rule ${ruleId} not found`);
        restore = await this.snapshot(row.target_agent, ruleId);
        const change = await fn(tx, row, now);
        if (!change) return { decision: await this.lastDecision(tx, ruleId), replayed: true };
        const d = await tx.query<Decision>(
          `INSERT INTO ${table(this.db, "rule_decisions")} (rule_id, action, version, content_hash, actor, reason, change, file_path, file_sha256, rollout_percent, decided_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11) RETURNING *`,
          [ruleId, change.action, change.version, change.hash, actor.name, change.reason, canonicalJson(change.change), change.file?.path ?? null, change.file?.sha256 ?? null, change.rollout ?? null, now],
        );
        const decision = { ...d.rows[0]!, decision_id: String(d.rows[0]!.decision_id) };
        return { decision, replayed: false };
      });
    } catch (err) {
      await restore?.().catch(() => undefined);
      throw err;
    }
    if (!result.replayed) {
      await this.record(audit, result.decision);
      this.onDecided?.(result.decision);
    }
    return result;
  }

  private async lastDecision(tx: Queryable, ruleId: string): Promise<Decision> {
    const r = await tx.query<Decision>(`SELECT * FROM ${table(this.db, "rule_decisions")} WHERE rule_id = $1 ORDER BY decision_id DESC LIMIT 1`, [ruleId]);
    const d = r.rows[0];
    if (!d) throw new AgentbusError("RULE_STATE", `${ruleId} has no decision to replay`);
    return { ...d, decision_id: String(d.decision_id) };
  }

  /** Appends the decision to the audit log's rules chain and waits until it is written. */
  private async record(audit: AuditWriter, d: Decision): Promise<void> {
    audit.append({
      outcome: "rule_decision",
      agent: d.actor,
      sessionId: RULES_CHAIN,
      messageId: `rule-decision-${d.decision_id}`,
      envelope: { kind: "rule_decision", ...d, decided_at: d.decided_at.toISOString() },
    });
    await audit.flush();
  }

  /** How to put the rule's file back as it was, should the transaction fail after writing it. */
  private async snapshot(target: string, ruleId: string): Promise<() => Promise<void>> {
    const path = join(this.writer.root, target, `${ruleId}.md`);
    const before = await readFile(path, "utf8").catch(() => null);
    return async () => {
      if (before === null) await this.writer.remove(target, ruleId);
      else await this.writer.restore(target, ruleId, before);
    };
  }

  private async writeFile(ruleId: string, c: VersionContent, version: number, rollout: number, approver: string, at: Date | number, row: ProposalRow): Promise<{ path: string; sha256: string }> {
    const file = this.ruleFile(ruleId, c, version, rollout, approver, new Date(at), row.batch_id);
    const issues = this.registry.check(MEMORY_RULE_SCHEMA_ID, file);
    if (issues.length > 0) throw new AgentbusError("RULE_INVALID", `${ruleId} cannot be written: ${issues.slice(0, 3).map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
    const written = await this.writer.write(file);
    return { path: `${this.prefix}/${written.relative}`, sha256: written.sha256 };
  }

  private ruleFile(ruleId: string, c: VersionContent, version: number, rollout: number, approver: string, at: Date, batch: string): RuleFile {
    const content = { rule_id: ruleId, target_agent: c.target_agent, trigger_condition: c.trigger_condition, instruction: c.instruction, rationale: c.rationale, ...(c.effect ? { effect: c.effect } : {}) };
    return {
      ...content,
      target_agent: c.target_agent as RuleFile["target_agent"],
      priority: c.priority,
      confidence_score: c.confidence_score,
      status: "approved",
      version,
      approved_by: approver,
      approved_at: at.toISOString(),
      content_hash: contentHash(content),
      ...(rollout < 100 ? { rollout_percent: rollout } : {}),
      ...(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(batch) ? { source_batch_id: batch } : {}),
    };
  }

  /** An edit must still make a valid rule file: checked before the version is stored. */
  private checkShape(ruleId: string, c: VersionContent, rollout: number): void {
    const issues = this.registry.check(MEMORY_RULE_SCHEMA_ID, this.ruleFile(ruleId, c, 1, rollout, "check", new Date(0), ""));
    if (issues.length > 0) throw new AgentbusError("BAD_REQUEST", `the edited rule is not valid: ${issues.slice(0, 3).map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
  }

  private async addVersion(tx: Queryable, ruleId: string, version: number, c: VersionContent, origin: RuleVersion["origin"], basedOn: number | null, by: string, at: Date, approvedBy?: string): Promise<number> {
    await tx.query(
      `INSERT INTO ${table(this.db, "rule_versions")} (rule_id, version, content, content_hash, origin, based_on, created_by, created_at, approved_by, approved_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10)`,
      [ruleId, version, canonicalJson(c), contentHash({ ...c, rule_id: ruleId }), origin, basedOn, by, at, approvedBy ?? null, approvedBy ? at : null],
    );
    return version;
  }

  private async setState(tx: Queryable, ruleId: string, state: string, version: number | null, rollout: number): Promise<void> {
    await tx.query(`UPDATE ${table(this.db, "rule_proposals")} SET state = $2, active_version = $3, rollout_percent = $4, updated_at = now() WHERE rule_id = $1`, [ruleId, state, version, rollout]);
  }
}

function mayApprove(actor: Actor): void {
  if (actor.name === PROPOSER) throw new AgentbusError("FORBIDDEN", `${PROPOSER} proposes rules and can never decide on them`);
  if (actor.role !== "reviewer") throw new AgentbusError("FORBIDDEN", `${actor.name} is a ${actor.role}; deciding on rules needs the reviewer role`);
}

function needReason(reason: string | undefined): string {
  const r = (reason ?? "").trim();
  if (r.length === 0 || r.length > 2000) throw new AgentbusError("BAD_REQUEST", "give a reason (1 to 2000 characters)");
  return r;
}

function checkRollout(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 100) throw new AgentbusError("BAD_REQUEST", `rollout_percent must be a whole number from 1 to 100, got ${String(p)}`);
  return p;
}

function pickEditable(f: Partial<EditableFields>): Partial<EditableFields> {
  const out: Partial<EditableFields> = {};
  for (const k of ["trigger_condition", "instruction", "rationale"] as const) {
    const v = f[k];
    if (v !== undefined) {
      if (typeof v !== "string") throw new AgentbusError("BAD_REQUEST", `${k} must be text`);
      out[k] = v;
    }
  }
  if ("effect" in f) out.effect = f.effect ?? undefined;
  return out;
}

function pick(c: VersionContent, keys: readonly (keyof VersionContent)[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, c[k] ?? null]));
}
