/**
 * SummaryBuilder: the memory_summary of a batch of workflow records (DESIGN.md §3), built by
 * streaming. Call `add` once per record, in any order and from pages of any size, then `finish`.
 * Memory is bounded by the number of distinct patterns (tables capped, see bounded.ts), never by
 * the number of records. Only run metadata is kept: categories, capabilities, error codes,
 * domains, counts, durations and sizes; never request text, page content, answers or passages.
 */
import { addExample, moments, observe } from "./bounded.ts";
import { renderSummary, type MemorySummary } from "./render.ts";
import { costOf, duplicatesOf, orderOf, pairsOf, sourceLabel, sourcePairsOf, type WorkflowRecord, type WorkflowTask } from "./record-facts.ts";
import { DEFAULT_LIMITS, stepState, SummaryState, type SummaryLimits } from "./state.ts";

export interface FinishOptions {
  batch_id: string;
  period: { from: string; to: string };
}

export class SummaryBuilder {
  private readonly s: SummaryState;

  constructor(limits: Partial<SummaryLimits> = {}) {
    this.s = new SummaryState({ ...DEFAULT_LIMITS, ...limits });
  }

  add(record: WorkflowRecord): void {
    const s = this.s;
    const ex = s.limits.maxExamples;
    s.workflows += 1;
    s.workflowStatus[record.status] += 1;
    const ok = record.status === "success";

    const category = s.categories.entry(record.request.category, () => ({ category: record.request.category, workflows: 0, succeeded: 0 }));
    if (category) {
      category.workflows += 1;
      if (ok) category.succeeded += 1;
    }
    for (const rule of record.rules_applied) s.rules.entry(rule, () => rule);

    for (const task of record.tasks) this.addTask(record, task);

    const order = orderOf(record);
    const orderKey = order.join(">");
    const seen = (ok ? s.successfulOrders : s.failedOrders).entry(orderKey, () => ({ order, count: 0 }));
    if (seen) seen.count += 1;
    const stats = s.orders.entry(`${record.request.category}\u0000${orderKey}`, () => ({
      category: record.request.category,
      order,
      workflows: 0,
      succeeded: 0,
      failed: 0,
      duration: moments(),
      succeededDuration: moments(),
      steps: new Map(),
      examples: [],
    }));
    if (stats) {
      stats.workflows += 1;
      if (ok) stats.succeeded += 1;
      else stats.failed += 1;
      observe(stats.duration, costOf(record));
      if (ok) observe(stats.succeededDuration, costOf(record));
      addExample(stats.examples, record.session_id, ex);
      for (const t of record.tasks) {
        let step = stats.steps.get(t.capability);
        if (!step) {
          step = stepState(t.capability);
          stats.steps.set(t.capability, step);
        }
        if (t.attempts === 0) continue;
        step.tasks += 1;
        if (t.status === "failed") step.failed += 1;
        observe(step.duration, t.duration_ms ?? 0);
        if (t.input_chars !== undefined) {
          step.input_chars += t.input_chars;
          step.input_chars_tasks += 1;
        }
      }
    }

    this.addDuplicates(record);
    this.addContradictions(record);
  }

  private addTask(record: WorkflowRecord, t: WorkflowTask): void {
    const s = this.s;
    s.tasks += 1;
    s.taskStatus[t.status] += 1;
    const cap = s.capabilities.entry(t.capability, () => ({ capability: t.capability, tasks: 0, succeeded: 0, ran: 0, duration_ms: 0, input_chars: 0, input_chars_tasks: 0 }));
    if (cap) {
      cap.tasks += 1;
      if (t.status === "succeeded") cap.succeeded += 1;
      if (t.attempts > 0) {
        cap.ran += 1;
        cap.duration_ms += t.duration_ms ?? 0;
        if (t.input_chars !== undefined) {
          cap.input_chars += t.input_chars;
          cap.input_chars_tasks += 1;
        }
      }
    }
    if (t.attempts > 0) {
      const domain = t.domain ?? null;
      const pair = s.capabilityDomains.entry(`${t.capability}\u0000${domain ?? ""}`, () => ({ capability: t.capability, domain, tasks: 0, failed: 0 }));
      if (pair) {
        pair.tasks += 1;
        if (t.status === "failed") pair.failed += 1;
      }
    }
    if (t.error_code === undefined || t.status === "skipped") return;
    const code = t.error_code;
    const domain = t.domain ?? null;
    const c = s.clusters.entry(`${t.capability}\u0000${code}\u0000${domain ?? ""}`, () => ({
      capability: t.capability,
      error_code: code,
      domain,
      occurrences: 0,
      attempts_spent: 0,
      failed: 0,
      recovered: 0,
      retryable: 0,
      exhausted: 0,
      retries_spent: 0,
      max_recovered_attempts: 0,
      duration_ms: 0,
      examples: [],
    }));
    if (!c) return;
    c.occurrences += 1;
    c.attempts_spent += t.attempts;
    addExample(c.examples, record.session_id, s.limits.maxExamples);
    if (t.status === "succeeded") {
      // It hit this error and a retry got through: retrying it is worth something.
      c.recovered += 1;
      c.max_recovered_attempts = Math.max(c.max_recovered_attempts, t.attempts);
      return;
    }
    c.failed += 1;
    if (t.recoverable) c.retryable += 1;
    if (t.attempts >= 2) c.exhausted += 1;
    c.retries_spent += Math.max(0, t.attempts - 1);
    c.duration_ms += t.duration_ms ?? 0;
  }

  private addDuplicates(record: WorkflowRecord): void {
    const s = this.s;
    const { duplicates, fingerprinted } = duplicatesOf(record);
    const byCapability = new Map(duplicates.map((d) => [d.capability, d]));
    for (const capability of fingerprinted) {
      const r = s.redundant.entry(capability, () => ({ capability, workflows: 0, duplicate_tasks: 0, workflows_with_capability: 0, duration_ms: 0, examples: [] }));
      if (!r) continue;
      r.workflows_with_capability += 1;
      const d = byCapability.get(capability);
      if (!d) continue;
      r.workflows += 1;
      r.duplicate_tasks += d.extra;
      r.duration_ms += d.duration_ms;
      addExample(r.examples, record.session_id, s.limits.maxExamples);
    }
  }

  private addContradictions(record: WorkflowRecord): void {
    const s = this.s;
    const pairs = sourcePairsOf(record);
    const contradicted = new Set<string>();
    for (const c of (record.contradictions ?? [])) {
      const sources = c.sources.map((src) => sourceLabel(src)).sort();
      const cluster = s.contradictions.entry(`${c.kind}\u0000${c.subject_key}\u0000${sources.join("\u0000")}`, () => ({
        kind: c.kind,
        subject_key: c.subject_key,
        sources,
        occurrences: 0,
        examples: [],
      }));
      if (cluster) {
        cluster.occurrences += 1;
        addExample(cluster.examples, record.session_id, s.limits.maxExamples);
      }
      for (const [key, pair] of pairsOf(sources)) {
        contradicted.add(key);
        if (!pairs.has(key)) pairs.set(key, pair);
      }
    }
    for (const [key, sources] of pairs) {
      const p = s.pairs.entry(key, () => ({ sources, workflows: 0, contradicted: 0 }));
      if (!p) continue;
      p.workflows += 1;
      if (contradicted.has(key)) p.contradicted += 1;
    }
  }

  /** Table sizes: bounded by the distinct patterns seen, whatever the number of records. */
  sizes(): Record<string, number> {
    return this.s.sizes();
  }

  finish(options: FinishOptions): MemorySummary {
    return renderSummary(this.s, options.batch_id, options.period);
  }
}
