/**
 * The memory agent's batches: on a batch_request (from the scheduler, from itself when the
 * threshold is reached, or by hand) it summarises the workflow records no batch holds yet and
 * sends the memory_summary to the learning agent.
 *
 * Which batch a request handles is kept in the agent's state under the request's message id: a
 * redelivery (say, after a crash between saving the summary and sending it) summarises and sends
 * the same batch again instead of claiming a new one, and the store keeps the first summary.
 */
import { DateTime } from "luxon";
import type { AgentContext, AgentReply, BatchRequest, MemoryBatch, MemorySummary } from "../../runtime/agent-api.ts";
import { summarizePages } from "./summary/index.ts";

export const LEARNING_AGENT = "learning_agent";
export const MEMORY_AGENT = "memory_agent";

interface ChosenBatch {
  batch_id: string;
  records: number;
  from: string;
  to: string;
  /** True when the batch was claimed by an earlier build that stopped before its summary. */
  resumed: boolean;
}

export async function handleBatchRequest(request: BatchRequest, ctx: AgentContext): Promise<AgentReply> {
  const key = `batch:${ctx.idempotencyKey}`;
  let chosen = await ctx.state.get<ChosenBatch>(key);
  if (chosen === undefined) {
    const picked = await pickBatch(request, ctx);
    if (picked === null) {
      return {
        content_type: "batch_request",
        content: { ...request },
        next_agent: "COMPLETE",
        reason: "nothing to summarise",
        status: { code: "skipped", message: "no new workflow records" },
        reasoning: `batch_request (${request.trigger}): no unsummarised batch and no unbatched workflow record before the cutoff`,
      };
    }
    chosen = await ctx.state.update<ChosenBatch>(key, (current) => current ?? picked);
  }
  const summary: MemorySummary = await summarizePages(ctx.learning.batchPages(chosen.batch_id), { batch_id: chosen.batch_id, period: { from: chosen.from, to: chosen.to } });
  await ctx.learning.saveBatchSummary(chosen.batch_id, summary);
  return {
    content_type: "memory_summary",
    content: summary,
    next_agent: LEARNING_AGENT,
    reason: `memory summary of batch ${chosen.batch_id}`,
    status: { code: "success", message: `summarised ${summary.counts.workflows} workflow record(s) of batch ${chosen.batch_id}` },
    reasoning: `batch_request (${request.trigger}): ${chosen.resumed ? "resumed batch" : "claimed batch"} ${chosen.batch_id} of ${chosen.records} record(s), ${chosen.from} to ${chosen.to}`,
  };
}

/** A batch claimed earlier and never summarised comes first; otherwise a new one up to the cutoff. */
async function pickBatch(request: BatchRequest, ctx: AgentContext): Promise<ChosenBatch | null> {
  const [pending] = await ctx.learning.unsummarisedBatches();
  if (pending) return chosenOf(pending, true, ctx);
  const now = ctx.clock.now();
  const zone = ctx.message.timestamp.timezone;
  const day = DateTime.fromMillis(now, { zone }).toFormat("yyyyLLdd");
  const cutoff = request.cutoff !== undefined ? new Date(request.cutoff) : new Date(now);
  const claimed = await ctx.learning.claimBatch({ trigger: request.trigger, cutoff, day });
  return claimed ? chosenOf(claimed, false, ctx) : null;
}

function chosenOf(batch: MemoryBatch, resumed: boolean, ctx: AgentContext): ChosenBatch {
  // A claimed batch always holds records, so both ends are set; now stands in should one be missing.
  const now = new Date(ctx.clock.now()).toISOString();
  return {
    batch_id: batch.batch_id,
    records: batch.records,
    from: batch.period_from?.toISOString() ?? now,
    to: batch.period_to?.toISOString() ?? now,
    resumed,
  };
}

/**
 * After a workflow record is saved: when the records no batch holds reach the configured threshold,
 * a batch_request to the memory agent itself, in the same session (claimBatch makes a request that
 * races the schedule, or another worker's, safe: one of them claims, the others find nothing).
 */
export async function thresholdRequest(ctx: AgentContext): Promise<AgentReply | null> {
  const threshold = ctx.settings.memoryBatchRecords;
  if (threshold <= 0) return null;
  const waiting = await ctx.learning.unbatchedRecords();
  if (waiting < threshold) return null;
  return {
    content_type: "batch_request",
    content: { trigger: "threshold" },
    next_agent: MEMORY_AGENT,
    reason: `${waiting} workflow record(s) wait for a batch (threshold ${threshold})`,
    status: { code: "success", message: `batch threshold reached: ${waiting} unbatched record(s)` },
  };
}
