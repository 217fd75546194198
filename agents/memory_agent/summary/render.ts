/** The summary state rendered as memory_summary content, in a stable order (biggest first). */
import type { ContentTypeMap } from "../../../runtime/agent-api.ts";
import { momentsOut, rate } from "./bounded.ts";
import type { SummaryState } from "./state.ts";

export type MemorySummary = ContentTypeMap["memory_summary"];

const MAX_LIST = 1000;

function top<T>(items: Iterable<T>, weight: (t: T) => number, key: (t: T) => string): T[] {
  return [...items].sort((a, b) => weight(b) - weight(a) || key(a).localeCompare(key(b))).slice(0, MAX_LIST);
}

export function renderSummary(s: SummaryState, batch_id: string, period: { from: string; to: string }): MemorySummary {
  const overflow = s.overflow();
  return {
    batch_id,
    period: { from: period.from, to: period.to },
    counts: {
      workflows: s.workflows,
      tasks: s.tasks,
      workflows_by_status: { ...s.workflowStatus },
      tasks_by_status: { ...s.taskStatus },
    },
    success_rates: {
      overall: rate(s.workflowStatus.success, s.workflows),
      by_capability: top(s.capabilities.values(), (c) => c.tasks, (c) => c.capability).map((c) => ({
        capability: c.capability,
        tasks: c.tasks,
        succeeded: c.succeeded,
        rate: rate(c.succeeded, c.tasks),
      })),
      by_category: top(s.categories.values(), (c) => c.workflows, (c) => c.category).map((c) => ({
        category: c.category,
        workflows: c.workflows,
        succeeded: c.succeeded,
        rate: rate(c.succeeded, c.workflows),
      })),
    },
    error_clusters: top(s.clusters.values(), (c) => c.occurrences, (c) => `${c.capability}|${c.error_code}|${c.domain ?? ""}`).map((c) => ({
      capability: c.capability,
      error_code: c.error_code,
      domain: c.domain,
      occurrences: c.occurrences,
      attempts_spent: c.attempts_spent,
      example_session_ids: [...c.examples],
      failed: c.failed,
      recovered: c.recovered,
      retryable: c.retryable,
      exhausted: c.exhausted,
      retries_spent: c.retries_spent,
      max_recovered_attempts: c.max_recovered_attempts,
      duration_ms: c.duration_ms,
    })),
    capability_domains: top(s.capabilityDomains.values(), (c) => c.tasks, (c) => `${c.capability}|${c.domain ?? ""}`).map((c) => ({ ...c })),
    capability_costs: top(s.capabilities.values(), (c) => c.ran, (c) => c.capability).map((c) => ({
      capability: c.capability,
      tasks: c.ran,
      duration_ms_mean: c.ran > 0 ? c.duration_ms / c.ran : 0,
      input_chars_tasks: c.input_chars_tasks,
      input_chars_mean: c.input_chars_tasks > 0 ? c.input_chars / c.input_chars_tasks : 0,
    })),
    order_stats: top(s.orders.values(), (o) => o.workflows, (o) => `${o.category}|${o.order.join(">")}`).map((o) => ({
      category: o.category,
      order: [...o.order],
      workflows: o.workflows,
      succeeded: o.succeeded,
      failed: o.failed,
      duration_ms: momentsOut(o.duration),
      succeeded_duration_ms: momentsOut(o.succeededDuration),
      steps: [...o.steps.values()].map((st) => ({
        capability: st.capability,
        tasks: st.tasks,
        failed: st.failed,
        duration_ms: momentsOut(st.duration),
        input_chars: st.input_chars,
        input_chars_tasks: st.input_chars_tasks,
      })),
      example_session_ids: [...o.examples],
    })),
    redundant_tasks: top(s.redundant.values(), (r) => r.workflows, (r) => r.capability).map((r) => ({
      capability: r.capability,
      workflows: r.workflows,
      duplicate_tasks: r.duplicate_tasks,
      workflows_with_capability: r.workflows_with_capability,
      duration_ms: r.duration_ms,
      example_session_ids: [...r.examples],
    })),
    task_orders: {
      successful: top(s.successfulOrders.values(), (o) => o.count, (o) => o.order.join(">")).map((o) => ({ order: [...o.order], count: o.count })),
      failed: top(s.failedOrders.values(), (o) => o.count, (o) => o.order.join(">")).map((o) => ({ order: [...o.order], count: o.count })),
    },
    contradiction_clusters: top(s.contradictions.values(), (c) => c.occurrences, (c) => `${c.kind}|${c.subject_key}|${c.sources.join("+")}`).map((c) => ({
      // A label only: the subject's text is never kept, its hash identifies it.
      subject: `${c.kind} ${c.subject_key} between ${c.sources.join(" and ")}`.slice(0, 1000),
      occurrences: c.occurrences,
      example_session_ids: [...c.examples],
      kind: c.kind,
      subject_key: c.subject_key,
      // Records give two or more sources per contradiction (their schema says so).
      sources: c.sources.slice(0, 10) as [string, string, ...string[]],
    })),
    source_pairs: top(s.pairs.values(), (p) => p.workflows, (p) => p.sources.join("+")).map((p) => ({ sources: [...p.sources], workflows: p.workflows, contradicted: p.contradicted })),
    ...(Object.keys(overflow).length > 0 ? { overflow } : {}),
    active_rules: [...s.rules.values()].sort().slice(0, MAX_LIST),
  };
}
