/**
 * Redundant tasks: plans that ran the same capability twice on the same inputs (equal task
 * fingerprints: same capability, same inputs, same result). Each such task is certain waste, so
 * every occurrence counts the same way; the rule makes the planner plan such work once.
 *
 * Not a pattern: a capability used twice on different inputs (different fingerprints), or one
 * plan that did it once.
 */
import { patternKey } from "./keys.ts";
import { fmtMs } from "./text.ts";
import type { Finding, MemorySummary, MinerContext } from "./types.ts";

export function mineRedundantTasks(summary: MemorySummary, ctx: MinerContext): Finding[] {
  const out: Finding[] = [];
  for (const r of summary.redundant_tasks ?? []) {
    if (r.workflows < ctx.minOccurrences) continue;
    const share = r.workflows_with_capability > 0 ? r.workflows / r.workflows_with_capability : 1;
    out.push({
      key: patternKey("redundant_task", r.capability),
      subkind: "redundant_task",
      kind: "planning_inefficiency",
      sameWay: r.workflows,
      consistency: 1,
      costly: r.duplicate_tasks >= 10 || r.duration_ms >= 60_000,
      target_agent: "planning_agent",
      trigger_condition: `When a plan would contain two or more ${r.capability} tasks with the same inputs`,
      instruction: `Plan one ${r.capability} task per distinct input and let every task that needs its result depend on that one task.`,
      rationale:
        `Observed in ${summary.batch_id}: ${r.workflows} workflow(s) ran ${r.capability} again on inputs it had already processed ` +
        `(${r.duplicate_tasks} duplicate task(s), ${fmtMs(r.duration_ms)} spent on them; ${Math.round(share * 100)}% of the workflows using ${r.capability}).`,
      description: `${r.capability} planned twice on the same inputs`,
      effect: { op: "dedupe", capability: r.capability },
      evidence: {
        occurrences: r.workflows,
        session_ids: [...r.example_session_ids],
        batch_ids: [summary.batch_id],
        capability: r.capability,
        attempts_wasted: r.duplicate_tasks,
        time_wasted_ms: r.duration_ms,
        workflows: r.workflows_with_capability,
        consistency: 1,
      },
    });
  }
  return out;
}
