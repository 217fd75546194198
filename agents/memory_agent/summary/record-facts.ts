/**
 * What one workflow record tells the summary, derived once per record: its task order, its total
 * cost, duplicate work, and which sources gave results together. Metadata only.
 */
import type { ContentTypeMap } from "../../../runtime/agent-api.ts";

export type WorkflowRecord = ContentTypeMap["workflow_record"];
export type WorkflowTask = WorkflowRecord["tasks"][number];

/** The plan's capabilities in plan order (the tasks' order when a record has no plan). */
export function orderOf(record: WorkflowRecord): string[] {
  const steps = record.plan.length > 0 ? record.plan : record.tasks;
  return steps.map((s) => s.capability);
}

/** Milliseconds the workflow's tasks spent, summed: its cost, whatever ran in parallel. */
export function costOf(record: WorkflowRecord): number {
  return record.tasks.reduce((sum, t) => sum + (t.duration_ms ?? 0), 0);
}

export interface Duplicates {
  capability: string;
  /** Tasks beyond the first with the same fingerprint. */
  extra: number;
  /** Milliseconds those extra tasks spent. */
  duration_ms: number;
}

/**
 * Per capability, tasks of this record that did the same work as an earlier one (equal
 * fingerprints), and the capabilities whose tasks carried fingerprints at all.
 */
export function duplicatesOf(record: WorkflowRecord): { duplicates: Duplicates[]; fingerprinted: Set<string> } {
  const seen = new Set<string>();
  const fingerprinted = new Set<string>();
  const byCapability = new Map<string, Duplicates>();
  for (const t of record.tasks) {
    if (t.fingerprint === undefined) continue;
    fingerprinted.add(t.capability);
    const key = `${t.capability}|${t.fingerprint}`;
    if (!seen.has(key)) {
      seen.add(key);
      continue;
    }
    const d = byCapability.get(t.capability) ?? { capability: t.capability, extra: 0, duration_ms: 0 };
    d.extra += 1;
    d.duration_ms += t.duration_ms ?? 0;
    byCapability.set(t.capability, d);
  }
  return { duplicates: [...byCapability.values()], fingerprinted };
}

/** A source as the summary names it: its domain, or its capability when it has none. */
export function sourceLabel(source: { capability: string; domain?: string | undefined }): string {
  return source.domain ?? source.capability;
}

export function pairKey(a: string, b: string): string {
  return a <= b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

const MAX_SOURCES_PER_RECORD = 12;

/**
 * Pairs of sources that gave results in this workflow: the root tasks (no dependencies) that
 * succeeded, labelled. A record's contradictions are between such roots, so the pairs are the
 * base the contradiction counts are set against.
 */
export function sourcePairsOf(record: WorkflowRecord): Map<string, [string, string]> {
  const dependsOn = new Map(record.plan.map((s) => [s.task_id, s.depends_on]));
  const labels = record.tasks
    .filter((t) => t.status === "succeeded" && (dependsOn.get(t.task_id)?.length ?? 0) === 0)
    .map((t) => sourceLabel(t))
    .slice(0, MAX_SOURCES_PER_RECORD);
  return pairsOf(labels);
}

/** Distinct pairs among the labels, by position (two sources with one label make a pair too). */
export function pairsOf(labels: readonly string[]): Map<string, [string, string]> {
  const out = new Map<string, [string, string]>();
  for (let i = 0; i < labels.length; i += 1) {
    for (let j = i + 1; j < labels.length; j += 1) {
      const a = labels[i] ?? "";
      const b = labels[j] ?? "";
      out.set(pairKey(a, b), a <= b ? [a, b] : [b, a]);
    }
  }
  return out;
}
