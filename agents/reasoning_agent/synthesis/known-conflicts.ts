/**
 * flag_source_conflict rules: sources known to disagree. A contradiction whose values come from the
 * rule's sources (and of its kind and subject, when the rule names them) is marked as a known
 * conflict: the answer says so and names the rule. It still counts as a contradiction for the
 * confidence, since the answer cannot tell which source is right.
 */
import { createHash } from "node:crypto";
import type { ApprovedRule } from "../../../runtime/agent-api.ts";
import { sourcesOf, type DispatchReport } from "../../_shared/report.ts";
import type { Contradiction } from "./contradictions.ts";

export interface ConflictRule {
  rule_id: string;
  sources: string[];
  kind?: "fact" | "compute";
  subject_key?: string;
}

export interface KnownConflict {
  rule_id: string;
  subject: string;
  sources: string[];
}

export function conflictRules(rules: readonly Pick<ApprovedRule, "rule_id" | "effect">[]): ConflictRule[] {
  const out: ConflictRule[] = [];
  for (const r of rules) {
    const e = r.effect;
    if (e?.op !== "flag_source_conflict" || !Array.isArray(e.sources)) continue;
    // Two distinct sources at least: a rule naming one domain twice would flag every contradiction there.
    const sources = [...new Set(e.sources.filter((s): s is string => typeof s === "string").map((s) => s.toLowerCase()))];
    if (sources.length < 2) continue;
    out.push({
      rule_id: r.rule_id,
      sources,
      ...(e.kind === "fact" || e.kind === "compute" ? { kind: e.kind } : {}),
      ...(typeof e.subject_key === "string" ? { subject_key: e.subject_key } : {}),
    });
  }
  return out;
}

/** The contradictions a rule explains, with the rule that does (the first that matches). */
export function knownConflicts(report: DispatchReport, contradictions: readonly Contradiction[], rules: readonly ConflictRule[]): KnownConflict[] {
  if (rules.length === 0) return [];
  const byId = new Map(report.tasks.map((t) => [t.task_id, t]));
  const lineages = sourcesOf(report);
  const out: KnownConflict[] = [];
  for (const c of contradictions) {
    // The sources as the memory agent records them: each value's root task, by domain else capability.
    const labels = new Set<string>();
    for (const v of c.values) {
      for (const root of (lineages.get(v.task_id) ?? v.task_id).split("+")) {
        const t = byId.get(root);
        if (t) labels.add((t.domain ?? t.capability).toLowerCase());
      }
    }
    const kind = c.subject.startsWith("value of ") ? "compute" : "fact";
    const key = createHash("sha256").update(c.subject.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex").slice(0, 16);
    const rule = rules.find((r) => r.sources.every((s) => labels.has(s)) && (r.kind === undefined || r.kind === kind) && (r.subject_key === undefined || r.subject_key === key));
    if (rule) out.push({ rule_id: rule.rule_id, subject: c.subject, sources: rule.sources });
  }
  return out;
}
