/** Shared by the learning tests: records → summary → report, and checks against the schemas. */
import { SummaryBuilder } from "../../agents/memory_agent/summary/index.ts";
import { mine, type LearningReport, type MemorySummary, type ProposedRule } from "../../agents/learning_agent/miner/index.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import type { WorkflowRecord } from "../../eval/learning/records.ts";

const registry = schemaRegistry();

export function issuesOf(contentType: string, value: unknown): string[] {
  return registry.check(registry.contentSchemaId(contentType) ?? "", value).map((i) => `${i.pointer} ${i.message}`);
}

export function summarize(records: WorkflowRecord[], batch_id = "batch_20260224"): MemorySummary {
  const b = new SummaryBuilder();
  for (const r of records) b.add(r);
  return b.finish({ batch_id, period: { from: "2026-02-24T00:00:00.000Z", to: "2026-02-24T23:59:59.999Z" } });
}

export function learn(records: WorkflowRecord[], options: { existingKeys?: string[] } = {}): { summary: MemorySummary; report: LearningReport; rules: ProposedRule[] } {
  const summary = summarize(records);
  const report = mine(summary, { date: "2026-02-24", ...options });
  return { summary, report, rules: report.learning_report.new_rules_proposed };
}

export function band(confidence: number): "high" | "medium" | "low" {
  return confidence > 0.9 ? "high" : confidence >= 0.7 ? "medium" : "low";
}

/** n session ids s-<prefix>-000 … */
export function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `s-${prefix}-${String(i).padStart(3, "0")}`);
}
