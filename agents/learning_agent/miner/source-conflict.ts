/**
 * Reasoning: the same contradiction (same kind, same subject) flagged again and again between the
 * same sources. The sources are known to disagree; the rule tells the reasoning agent to report it
 * as a known conflict between them instead of a new contradiction every time.
 *
 * Not a pattern: a contradiction flagged once; sources that meet often and disagree on this
 * subject only now and then (a coincidence, not a standing conflict); a contradiction within one
 * source (two pages of one domain): a rule cannot name its sources apart, and one naming the domain
 * twice would flag every contradiction there.
 */
import { patternKey } from "./keys.ts";
import type { Finding, MemorySummary, MinerContext } from "./types.ts";

/** Share of the workflows where the sources met in which they disagreed on this subject. */
const MIN_SHARE = 0.5;

export function mineSourceConflicts(summary: MemorySummary, ctx: MinerContext): Finding[] {
  const met = new Map<string, number>();
  for (const p of summary.source_pairs ?? []) met.set(p.sources.join("\u0000"), p.workflows);
  const out: Finding[] = [];
  for (const c of summary.contradiction_clusters ?? []) {
    if (!c.kind || !c.subject_key || !c.sources || c.occurrences < ctx.minOccurrences) continue;
    const sources = [...new Set(c.sources)].sort();
    if (sources.length < 2) continue;
    const together = Math.max(c.occurrences, ...pairsOf(sources).map((k) => met.get(k) ?? 0));
    const share = c.occurrences / together;
    if (share < MIN_SHARE) continue;
    const names = sources.join(" and ");
    const consistency = Math.round(share * 1000) / 1000;
    out.push({
      key: patternKey("source_conflict", c.kind, c.subject_key, sources.join("+")),
      subkind: "source_conflict",
      kind: "reasoning_failure",
      sameWay: c.occurrences,
      consistency,
      costly: c.occurrences >= 10,
      target_agent: "reasoning_agent",
      trigger_condition: `When results from ${names} disagree on the subject ${c.subject_key} (${c.kind})`,
      instruction:
        `Treat this as a known, recurring conflict between ${names}: report both values once, each attributed to its source, ` +
        `as a known source conflict, not as a new contradiction, and do not lower the answer's confidence for it again.`,
      rationale: `Observed in ${summary.batch_id}: the same ${c.kind} contradiction between ${names} was flagged in ${c.occurrences} of the ${together} workflow(s) that used both.`,
      description: `${names} keep disagreeing on ${c.subject_key}`,
      effect: { op: "flag_source_conflict", sources: sources.map((s) => s.toLowerCase()) as [string, string, ...string[]], kind: c.kind, subject_key: c.subject_key },
      evidence: {
        occurrences: c.occurrences,
        session_ids: [...c.example_session_ids],
        batch_ids: [summary.batch_id],
        sources,
        workflows: together,
        consistency,
      },
    });
  }
  return out;
}

function pairsOf(sources: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < sources.length; i += 1) for (let j = i + 1; j < sources.length; j += 1) out.push(`${sources[i]}\u0000${sources[j]}`);
  return out;
}
