/**
 * `agentbus learn --now` (and `agentbus demo --learn`): the governed learning run, on the bus and
 * the store. A batch_request (trigger manual) goes to the agent that takes it; the chain's agents
 * this runtime does not run yet are started here, so it works without `agentbus start`. Another
 * process's workers may take the jobs just as well, so the session is followed through the audit
 * log in the store, not through this process's events: the batch the memory agent summarised, the
 * learning report, and then the proposals that report put in the queue (new or seen again).
 */
import { DateTime } from "luxon";
import { AgentbusError } from "../errors/index.ts";
import { buildRequest } from "../envelope/build.ts";
import { randomSuffix } from "../envelope/ids.ts";
import type { Envelope } from "../envelope/types.ts";
import type { ContentTypeMap } from "../schemas/generated/index.ts";
import { getTraceAfter, type TraceEntry } from "../store/sessions.ts";
import { getBatch } from "../store/memory-batches.ts";
import { getProposal, knownPatterns, type ProposalState, type ProposedRule } from "../store/proposals.ts";
import type { Db } from "../store/db.ts";
import type { Runtime } from "../runtime.ts";
import { SCHEDULER_SOURCE } from "../schedules/slots.ts";
import { BATCH_REQUEST, batchRequestAgent, chainAgents } from "./chain.ts";

export interface LearnNowOptions {
  /** A line for people as each hop lands (batch claimed, summary, report). */
  onProgress?: (line: string) => void;
  /** How long to wait for the report (default 120 000 ms). */
  timeoutMs?: number;
}

export interface LearnedBatch {
  batch_id: string;
  records: number;
  period_from: string | null;
  period_to: string | null;
}

export interface LearnedProposal {
  rule_id: string;
  /** new: first proposed by this batch; reobserved: a proposal already queued that this batch saw again. */
  status: "new" | "reobserved";
  /** The proposal's state in the queue now. */
  state: ProposalState;
  target_agent: string;
  priority: ProposedRule["priority"];
  confidence: number;
  trigger_condition: string;
  /** Batches that observed the pattern, this one included. */
  observations: number;
}

export interface LearnNowResult {
  session_id: string;
  /** The batch summarised; null when no workflow record waited for one. */
  batch: LearnedBatch | null;
  /** The learning_report envelope; null when no workflow record waited. */
  report: Envelope | null;
  proposals: LearnedProposal[];
}

const POLL_MS = 200;

export async function learnNow(runtime: Runtime, options: LearnNowOptions = {}): Promise<LearnNowResult> {
  const db = runtime.store?.db;
  if (!db) throw new AgentbusError("STORE_REQUIRED", "learning needs the system of record: open the runtime with a store");
  const progress = options.onProgress ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const entry = batchRequestAgent(runtime.agents);
  const running = new Set(runtime.runningAgents());
  const missing = chainAgents(runtime.agents, entry.name).filter((name) => !running.has(name));
  if (missing.length > 0) {
    runtime.startAgents(missing);
    progress(`started ${missing.join(", ")} in this process`);
  }

  const now = runtime.clock.now();
  const stamp = DateTime.fromMillis(now, { zone: runtime.config.timezone }).toFormat("yyyyLLdd-HHmmss");
  const request = buildRequest(
    {
      source: SCHEDULER_SOURCE,
      content_type: BATCH_REQUEST,
      content: { trigger: "manual" },
      to: entry.name,
      reason: "manual run: agentbus learn --now",
      session_id: `learn-${stamp}-${randomSuffix(6)}`,
      request_id: "learn_now",
    },
    { clock: runtime.clock, timezone: runtime.config.timezone },
  );
  const session = request.metadata.session_id;
  const published = await runtime.bus.publish(request, SCHEDULER_SOURCE);
  if (!published.accepted) throw new AgentbusError("REQUEST_REFUSED", `the batch_request to ${entry.name} was refused by the bus (dead letter ${published.dead_letter_id})`, { issues: published.issues });
  progress(`batch_request (manual) → ${entry.name}, session ${session}`);

  const end = await follow(db, session, timeoutMs, progress);
  if (end.kind === "nothing") {
    progress("no workflow records wait for a batch");
    return { session_id: session, batch: null, report: null, proposals: [] };
  }
  const proposals = await proposalsOf(db, end.report);
  return { session_id: session, batch: end.batch, report: end.report, proposals };
}

type End = { kind: "nothing" } | { kind: "report"; report: Envelope; batch: LearnedBatch };

/** Reads the session's audit rows as they are written, until its report, a skip or a refusal. */
async function follow(db: Db, session: string, timeoutMs: number, progress: (line: string) => void): Promise<End> {
  const deadline = Date.now() + timeoutMs;
  let last = "0";
  let batch: LearnedBatch | null = null;
  while (Date.now() < deadline) {
    const rows = await getTraceAfter(db, session, last);
    for (const row of rows) {
      last = row.id;
      const env = envelopeOf(row);
      if (row.outcome === "dead_lettered") {
        const why = (row.reasons ?? []).map((r) => `${r.pointer || "/"} ${r.message}`).slice(0, 5).join("; ");
        throw new AgentbusError("LEARN_FAILED", `${row.agent} could not handle ${env?.output.content_type ?? "a message"} of session ${session}: ${why || "see agentbus dead-letters"} (agentbus trace ${session})`, { issues: row.reasons ?? [] });
      }
      if (!env || (row.outcome !== "published" && row.outcome !== "completed")) continue;
      const type = env.output.content_type;
      if (type === "memory_summary") {
        batch = await batchOf(db, env);
        progress(`batch ${batch.batch_id} claimed: ${batch.records} record(s), ${batch.period_from ?? "?"} → ${batch.period_to ?? "?"}`);
        // Published rows are envelopes the bus validated, content schema included.
        const c = (env.output.content as unknown as ContentTypeMap["memory_summary"]).counts;
        progress(`summary: ${c.workflows} workflow(s) (${c.workflows_by_status.success} success, ${c.workflows_by_status.partial} partial, ${c.workflows_by_status.failed} failed), ${c.tasks} task(s) → ${env.next_agent.name}`);
      } else if (row.outcome === "completed" && type === "learning_report") {
        // Completed rows are validated envelopes: this content passed the learning_report schema.
        const body = (env.output.content as unknown as ContentTypeMap["learning_report"]).learning_report;
        progress(`report ${env.message_id}: ${body.patterns_identified} pattern(s), ${body.new_rules_proposed.length} rule(s) proposed`);
        // The summary's row is written before the report's; should it be missing, the store knows the batch.
        return { kind: "report", report: env, batch: batch ?? (await storedBatch(db, body.batch_id)) };
      } else if (row.outcome === "completed" && type === BATCH_REQUEST && env.status.code === "skipped") {
        return { kind: "nothing" };
      } else if (row.outcome === "completed") {
        throw new AgentbusError("LEARN_FAILED", `session ${session} ended with ${type} from ${env.agent.name} (${env.status.code}: ${env.status.message}) instead of a learning report (agentbus trace ${session})`);
      }
    }
    if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new AgentbusError("LEARN_TIMEOUT", `no learning report within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}; session ${session} may still finish: agentbus trace ${session}`);
}

/**
 * The audit log keeps what the bus validated (published and completed rows are valid envelopes);
 * a pruned or refused row has no envelope to read.
 */
function envelopeOf(row: TraceEntry): Envelope | null {
  const env = row.envelope as Envelope | null;
  return env && typeof env === "object" && env.output && env.agent && env.next_agent && env.status ? env : null;
}

async function batchOf(db: Db, summaryEnvelope: Envelope): Promise<LearnedBatch> {
  // A validated memory_summary envelope (see follow).
  const summary = summaryEnvelope.output.content as unknown as ContentTypeMap["memory_summary"];
  const stored = await getBatch(db, summary.batch_id);
  return {
    batch_id: summary.batch_id,
    records: stored?.records ?? summary.counts.workflows,
    period_from: stored?.period_from?.toISOString() ?? summary.period.from,
    period_to: stored?.period_to?.toISOString() ?? summary.period.to,
  };
}

async function storedBatch(db: Db, batchId: string): Promise<LearnedBatch> {
  const b = await getBatch(db, batchId);
  return { batch_id: batchId, records: b?.records ?? 0, period_from: b?.period_from?.toISOString() ?? null, period_to: b?.period_to?.toISOString() ?? null };
}

/**
 * The queue's proposals this report touched: its rules (new, or re-proposed) and the known patterns
 * it reported, each once, in the report's order.
 */
async function proposalsOf(db: Db, report: Envelope): Promise<LearnedProposal[]> {
  // The report envelope the bus validated (see follow).
  const body = (report.output.content as unknown as ContentTypeMap["learning_report"]).learning_report;
  const keys = [...new Set([...body.new_rules_proposed.flatMap((r) => (r.pattern_key ? [r.pattern_key] : [])), ...(body.patterns ?? []).flatMap((p) => (p.pattern_key ? [p.pattern_key] : []))])];
  const known = await knownPatterns(db, keys);
  const out: LearnedProposal[] = [];
  for (const key of keys) {
    const ref = known.get(key);
    const p = ref ? await getProposal(db, ref.rule_id) : null;
    if (!p) continue;
    const observedNow = p.batch_id === body.batch_id || p.history.some((h) => h.batch_id === body.batch_id);
    if (!observedNow) continue;
    out.push({
      rule_id: p.rule_id,
      status: p.batch_id === body.batch_id ? "new" : "reobserved",
      state: p.state,
      target_agent: p.target_agent,
      priority: p.priority,
      confidence: p.confidence,
      trigger_condition: p.rule.trigger_condition,
      observations: p.observations,
    });
  }
  return out;
}
