/**
 * Where results disagree (or agree) with each other. Facts are compared between sources, not
 * within one: a page's text, its summary and the passages found in it are one source (one lineage
 * of the plan), so a page giving two figures for two years is not a contradiction, while two pages
 * giving different figures for the same subject are. Compute tasks of the same expression must
 * give the same value.
 */
import type { ContentTypeMap } from "../../../runtime/agent-api.ts";
import { extractFacts, valuesAgree, type Fact } from "./facts.ts";
import { clip, isRecord, sourcesOf, type DispatchReport, type TaskReport } from "../../_shared/report.ts";

export type Contradiction = ContentTypeMap["synthesis"]["contradictions"][number];
type ContradictionValue = Contradiction["values"][number];

/** A fact at least two independent sources state with the same value. */
export interface Corroboration {
  subject: string;
  value: number;
  unit: string | null;
  task_ids: string[];
}

export interface FactCheck {
  contradictions: Contradiction[];
  corroborations: Corroboration[];
}

interface FactAt extends Fact {
  task_id: string;
  source: string;
}

// Output fields that hold no prose worth reading for facts.
const NOT_PROSE = new Set(["html", "url", "uri", "content_type", "media_type", "domain", "expression"]);
const MAX_CONTRADICTIONS = 50;
const MAX_VALUES = 20;

/** The prose a task produced: titles, texts, summaries, passages, and any other string output. */
export function textsOf(task: TaskReport): string[] {
  const outputs = task.status === "succeeded" ? task.outputs : null;
  if (!outputs) return [];
  const texts: string[] = [];
  for (const [key, value] of Object.entries(outputs)) {
    if (typeof value === "string" && !NOT_PROSE.has(key)) texts.push(value);
    if (key === "passages" && Array.isArray(value)) {
      for (const p of value) if (isRecord(p) && typeof p.passage === "string") texts.push(p.passage);
    }
  }
  return texts;
}

export function checkFacts(report: DispatchReport): FactCheck {
  const sources = sourcesOf(report);
  const bySubject = new Map<string, FactAt[]>();
  for (const task of report.tasks) {
    const source = sources.get(task.task_id) ?? task.task_id;
    for (const text of textsOf(task)) {
      for (const fact of extractFacts(text)) {
        const list = bySubject.get(fact.subject) ?? [];
        list.push({ ...fact, task_id: task.task_id, source });
        bySubject.set(fact.subject, list);
      }
    }
  }
  const contradictions: Contradiction[] = [];
  const corroborations: Corroboration[] = [];
  for (const [subject, facts] of bySubject) {
    const units = new Set(facts.map((f) => f.unit).filter((u): u is string => u !== null));
    if (units.size > 1) continue; // different measures of the subject (km and miles, people and %): not comparable
    const unit = units.values().next().value ?? null;
    const bySource = groupBy(facts, (f) => f.source);
    if (bySource.size < 2) continue;
    const label = unit ? `${subject} (${unit})` : subject;
    if (disagree([...bySource.values()])) {
      const values = distinctValues(bySource);
      if (atLeastTwo(values) && contradictions.length < MAX_CONTRADICTIONS) contradictions.push({ subject: clip(label, 1000), values });
    } else {
      const agreed = commonValue([...bySource.values()]);
      if (agreed) corroborations.push({ subject, value: agreed.value, unit, task_ids: agreed.task_ids });
    }
  }
  return { contradictions: [...contradictions, ...computeContradictions(report)].slice(0, MAX_CONTRADICTIONS), corroborations };
}

/** Two sources disagree when none of the values one gives agrees with any the other gives. */
function disagree(groups: FactAt[][]): boolean {
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const a = groups[i] ?? [];
      const b = groups[j] ?? [];
      if (!a.some((fa) => b.some((fb) => valuesAgree(fa, fb)))) return true;
    }
  }
  return false;
}

/** A value every source gives (within tolerance), with the first task of each source that gives it. */
function commonValue(groups: FactAt[][]): { value: number; task_ids: string[] } | null {
  for (const candidate of groups[0] ?? []) {
    const backers = groups.map((g) => g.find((f) => valuesAgree(candidate, f)));
    if (backers.every((b) => b !== undefined)) return { value: candidate.value, task_ids: backers.map((b) => b?.task_id ?? "") };
  }
  return null;
}

/** Each value each source gives, once, with the first task that gave it. */
function distinctValues(bySource: Map<string, FactAt[]>): ContradictionValue[] {
  const values: ContradictionValue[] = [];
  for (const facts of bySource.values()) {
    const seen = new Set<number>();
    for (const f of facts) {
      if (seen.has(f.value)) continue;
      seen.add(f.value);
      values.push({ value: f.value, task_id: f.task_id });
    }
  }
  return values.slice(0, MAX_VALUES);
}

/** Compute tasks of the same expression (spacing aside) that came out with different values. */
function computeContradictions(report: DispatchReport): Contradiction[] {
  const byExpression = new Map<string, Array<{ value: number; task_id: string; expression: string }>>();
  for (const task of report.tasks) {
    const o = task.status === "succeeded" ? task.outputs : null;
    if (!o || typeof o.expression !== "string" || typeof o.value !== "number") continue;
    const key = o.expression.replace(/\s+/g, "");
    const list = byExpression.get(key) ?? [];
    list.push({ value: o.value, task_id: task.task_id, expression: o.expression });
    byExpression.set(key, list);
  }
  const out: Contradiction[] = [];
  for (const results of byExpression.values()) {
    const values = results.slice(0, MAX_VALUES).map((r) => ({ value: r.value, task_id: r.task_id }));
    if (new Set(results.map((r) => r.value)).size < 2 || !atLeastTwo(values)) continue;
    out.push({ subject: clip(`value of ${results[0]?.expression ?? ""}`, 1000), values });
  }
  return out;
}

function atLeastTwo(values: ContradictionValue[]): values is Contradiction["values"] {
  return values.length >= 2;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(item);
    out.set(k, list);
  }
  return out;
}
