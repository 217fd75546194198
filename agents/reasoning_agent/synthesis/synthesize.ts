/**
 * The deterministic synthesis of a dispatch report: the answer from the results only, one finding
 * per thing a result shows, the contradictions between results, and a confidence that drops with
 * every failure, skip and contradiction. Results are read by their shape (html, title/text,
 * summary, passages/counts, expression/value), so a plugin capability producing the same artifacts
 * is described the same way; anything else is shown by its scalar outputs.
 */
import type { ContentTypeMap } from "../../../runtime/agent-api.ts";
import { checkFacts, type Corroboration } from "./contradictions.ts";
import { knownConflicts, type ConflictRule, type KnownConflict } from "./known-conflicts.ts";
import { clip, consumedTasks, hasEdges, isRecord, outcomeOf, skipReason, type DispatchReport, type ReportOutcome, type TaskReport } from "../../_shared/report.ts";
import { CUT_FACTOR, NEGATIVE_ON_CUT_CEILING, cutLines, cutsByTask, notFoundOnCut, type Cut } from "./truncation.ts";

export type Synthesis = ContentTypeMap["synthesis"];
export type Finding = Synthesis["findings"][number];

export interface SynthesisResult {
  synthesis: Synthesis;
  outcome: ReportOutcome;
  /** Set when the session failed: what the envelope's error should say. */
  error: { code: "ALL_TASKS_FAILED" | "NO_TASKS"; message: string } | null;
  /** One paragraph for the envelope's audit.reasoning. */
  reasoning: string;
  /** Whether results rest on cut inputs, and whether a "not found" does; the lines saying so. */
  cuts: CutState;
  /** Contradictions an approved flag_source_conflict rule explains. */
  known: KnownConflict[];
}

export interface CutState {
  any: boolean;
  negative: boolean;
  lines: string[];
}

const MAX_ANSWER = 20_000;
const MAX_FINDINGS = 1000;
const PASSAGES_PER_TERM = 3;

const EXPLAINED: Record<string, string> = {
  HTTP_404: "not found",
  HTTP_410: "gone",
  HTTP_401: "authentication required",
  HTTP_403: "forbidden",
  HTTP_429: "rate limited",
  TIMEOUT: "timed out",
  TOO_LARGE: "response too large",
  NETWORK: "network error",
  BAD_URL: "invalid URL",
  FETCH_ADDRESS_REFUSED: "address not allowed: loopback, private, link-local or metadata",
  FETCH_SCHEME_REFUSED: "redirect to a scheme other than http(s) refused",
  FETCH_REDIRECT_LOOP: "redirect loop",
  FETCH_TOO_MANY_REDIRECTS: "too many redirects",
  BAD_INPUT: "invalid input",
  CAPABILITY_UNKNOWN: "unknown capability",
  BUDGET_EXCEEDED: "token budget exceeded",
};

export function synthesize(report: DispatchReport, conflictRules: readonly ConflictRule[] = []): SynthesisResult {
  const outcome = outcomeOf(report);
  const { contradictions, corroborations } = checkFacts(report);
  const known = knownConflicts(report, contradictions, conflictRules);
  const consumed = intermediateTasks(report);
  const cutsOf = cutsByTask(report);
  const findings: Finding[] = [];
  const body: string[] = [];
  let negativeOnCut = false;
  for (const task of report.tasks) {
    if (task.status === "succeeded") {
      const shown = describeResult(task, consumed.has(task.task_id), cutsOf.get(task.task_id) ?? []);
      findings.push(...shown.findings);
      body.push(...shown.lines);
      negativeOnCut ||= shown.negativeOnCut;
    } else {
      findings.push({ statement: clip(notDone(report, task), 4000), task_ids: [task.task_id] });
    }
  }
  findings.push(...corroborations.map(corroborated));

  const lines = [headline(outcome), ...body];
  if (corroborations.length > 0) lines.push("", ...corroborations.map((c) => corroborated(c).statement));
  if (contradictions.length > 0) {
    lines.push("", "The results disagree:");
    for (const c of contradictions) {
      const k = known.find((x) => x.subject === c.subject);
      const flag = k ? ` (a known conflict: ${k.sources.join(" and ")} are known to disagree on this, rule ${k.rule_id})` : "";
      lines.push(`- ${c.subject}: ${c.values.map((v) => `${String(v.value)} (${v.task_id})`).join(" vs ")}${flag}`);
    }
  }
  const undone = report.tasks.filter((t) => t.status !== "succeeded");
  if (undone.length > 0) lines.push("", "Not done:", ...undone.map((t) => `- ${notDone(report, t)}`));
  const cuts: CutState = { any: [...cutsOf.values()].some((c) => c.length > 0), negative: negativeOnCut, lines: cutLines(report) };
  lines.push(...cuts.lines);

  const confidence = confidenceOf(outcome, contradictions.length, cuts);
  const synthesis: Synthesis = { answer: truncate(lines.join("\n"), MAX_ANSWER), findings: findings.slice(0, MAX_FINDINGS), contradictions, confidence };
  return {
    synthesis,
    outcome,
    error: errorOf(report, outcome),
    reasoning: `${outcome.succeeded} of ${outcome.total} tasks succeeded (${outcome.failed} failed, ${outcome.skipped} skipped); ${contradictions.length} contradiction(s) between results${known.length > 0 ? ` (${known.length} a known source conflict: ${[...new Set(known.map((k) => k.rule_id))].join(", ")})` : ""}${cuts.any ? `; built on input that was cut${cuts.negative ? ", with a term not found in it" : ""}` : ""}; confidence ${confidence}`,
    cuts,
    known,
  };
}

/**
 * 0.9 for an extractive answer from every task, scaled by the share of tasks that succeeded and by
 * 0.75 per contradiction; 0 when nothing succeeded. Built on a cut input: scaled by 0.8, and at most
 * 0.4 when a term was not found in it (the term may be in the part not read).
 */
export function confidenceOf(outcome: ReportOutcome, contradictions: number, cuts: Pick<CutState, "any" | "negative"> = { any: false, negative: false }): number {
  if (outcome.succeeded === 0 || outcome.total === 0) return 0;
  let c = 0.9 * (outcome.succeeded / outcome.total) * 0.75 ** Math.min(contradictions, 10);
  if (cuts.any) c *= CUT_FACTOR;
  if (cuts.negative) c = Math.min(c, NEGATIVE_ON_CUT_CEILING);
  return Math.max(0.05, Math.round(c * 100) / 100);
}

/** "t1 (fetch) failed after 3 attempts with HTTP_429 (rate limited) on example.org: …" or why it was skipped. */
export function notDone(report: DispatchReport, task: TaskReport): string {
  const head = `${task.task_id} (${task.capability})`;
  if (task.status === "skipped") return `${head} was skipped: ${skipReason(report, task)}.`;
  const code = task.error_code ?? "UNKNOWN_ERROR";
  const explained = EXPLAINED[code] ?? (/^HTTP_5\d\d$/.test(code) ? "server error" : null);
  const attempts = `${task.attempts} attempt${task.attempts === 1 ? "" : "s"}`;
  const where = task.domain ? ` on ${task.domain}` : "";
  const message = task.error_message ? `: ${clip(task.error_message, 300)}` : "";
  return `${head} failed after ${attempts} with ${code}${explained ? ` (${explained})` : ""}${where}${message}`;
}

function errorOf(report: DispatchReport, outcome: ReportOutcome): SynthesisResult["error"] {
  if (outcome.status !== "failed") return null;
  if (outcome.total === 0) return { code: "NO_TASKS", message: "the plan had no tasks, so there is no result" };
  const failed = report.tasks.filter((t) => t.status === "failed").map((t) => `${t.task_id} ${t.error_code ?? "UNKNOWN_ERROR"}${t.domain ? ` (${t.domain})` : ""}`);
  return { code: "ALL_TASKS_FAILED", message: clip(`no task succeeded: ${outcome.failed} failed${failed.length ? ` (${failed.join(", ")})` : ""}, ${outcome.skipped} skipped`, 4000) };
}

function headline(outcome: ReportOutcome): string {
  const n = outcome.total;
  if (outcome.status === "success") return `All ${n} task${n === 1 ? "" : "s"} succeeded.`;
  if (outcome.status === "partial") return `Only ${outcome.succeeded} of ${n} tasks succeeded, so this answer is incomplete (${outcome.failed} failed, ${outcome.skipped} skipped).`;
  if (n === 0) return "The plan had no tasks, so there is no result.";
  return `No result: none of the ${n} task${n === 1 ? "" : "s"} succeeded (${outcome.failed} failed, ${outcome.skipped} skipped).`;
}

/** Intermediate steps are not answers: with the plan's edges, the tasks another task consumed. */
function intermediateTasks(report: DispatchReport): Set<string> {
  if (hasEdges(report)) return consumedTasks(report);
  // Without edges: pages and texts are intermediate when a later task exists to consume them.
  const out = new Set<string>();
  report.tasks.forEach((t, i) => {
    const o = t.outputs ?? {};
    if (i < report.tasks.length - 1 && (typeof o.html === "string" || typeof o.text === "string")) out.add(t.task_id);
  });
  return out;
}

function describeResult(task: TaskReport, intermediate: boolean, cuts: readonly Cut[]): { findings: Finding[]; lines: string[]; negativeOnCut: boolean } {
  const o = task.outputs ?? {};
  const id = task.task_id;
  const findings: Finding[] = [];
  const lines: string[] = [];
  const find = (statement: string): void => void findings.push({ statement: clip(statement, 4000), task_ids: [id] });
  let shown = false;
  let negativeOnCut = false;

  if (typeof o.html === "string") {
    shown = true;
    const parts = [typeof o.status === "number" ? `HTTP ${o.status}` : null, typeof o.bytes === "number" ? `${o.bytes} bytes` : null, typeof o.content_type === "string" ? o.content_type : null].filter(Boolean);
    const fetched = `Fetched ${typeof o.domain === "string" ? o.domain : task.domain ?? "the page"}${parts.length ? ` (${parts.join(", ")})` : ""}.`;
    find(fetched);
    if (!intermediate) lines.push(`${fetched} [${id}]`);
  }
  if (typeof o.text === "string" || typeof o.title === "string") {
    shown = true;
    const title = typeof o.title === "string" ? o.title.trim() : "";
    const text = typeof o.text === "string" ? o.text : "";
    find(title ? `The page's title is "${title}".` : `Extracted ${text.length} characters of text.`);
    if (title) lines.push(`Page "${clip(title, 300)}" [${id}]`);
    if (!intermediate && text) lines.push(`Text [${id}]: ${clip(text, 600)}`);
  }
  if (typeof o.summary === "string") {
    shown = true;
    find(`Summary: ${o.summary}`);
    lines.push(`Summary [${id}]: ${clip(o.summary, 3000)}`);
  }
  if (Array.isArray(o.passages) || isRecord(o.counts)) {
    shown = true;
    const mentions = mentionsOf(o);
    const cut = cuts.length > 0;
    const times = (n: number): string => `${n} time${n === 1 ? "" : "s"}${cut ? " in the part that was read" : ""}`;
    const counts = [...mentions.entries()].map(([term, m]) => (m.count === 0 ? (cut ? notFoundOnCut(term, cuts) : `"${term}" not found`) : `"${term}" ${times(m.count)}`));
    for (const [term, m] of mentions) {
      // A term missing from a cut input is not known to be missing from the document.
      if (m.count === 0 && cut) {
        negativeOnCut = true;
        find(`${notFoundOnCut(term, cuts)}.`);
      } else find(`"${term}" is mentioned ${times(m.count)}.`);
    }
    lines.push(`Mentions [${id}]: ${counts.length ? counts.join(", ") : "no terms were searched"}.`);
    for (const [term, m] of mentions) for (const p of m.passages.slice(0, PASSAGES_PER_TERM)) lines.push(`  - "${term}": "${clip(p, 300)}"`);
  }
  if (typeof o.value === "number" || typeof o.value === "string") {
    shown = true;
    const stated = typeof o.expression === "string" ? `${o.expression} = ${String(o.value)}` : `The value is ${String(o.value)}`;
    find(`${stated}.`);
    lines.push(`Computed [${id}]: ${stated}.`);
  }
  if (!shown) {
    const scalars = Object.entries(o).filter(([, v]) => ["string", "number", "boolean"].includes(typeof v)).map(([k, v]) => `${k}: ${clip(String(v as string | number | boolean), 200)}`);
    const stated = `${task.capability} returned ${scalars.length ? scalars.join("; ") : "no scalar outputs"}`;
    find(`${stated}.`);
    if (!intermediate) lines.push(`${stated} [${id}]`);
  }
  return { findings, lines, negativeOnCut };
}

function mentionsOf(o: Record<string, unknown>): Map<string, { count: number; passages: string[] }> {
  const out = new Map<string, { count: number; passages: string[] }>();
  const entry = (term: string): { count: number; passages: string[] } => {
    let e = out.get(term);
    if (!e) out.set(term, (e = { count: 0, passages: [] }));
    return e;
  };
  if (isRecord(o.counts)) for (const [term, n] of Object.entries(o.counts)) if (typeof n === "number") entry(term).count = n;
  const counted = isRecord(o.counts);
  if (Array.isArray(o.passages)) {
    for (const p of o.passages) {
      if (!isRecord(p) || typeof p.term !== "string" || typeof p.passage !== "string") continue;
      const e = entry(p.term);
      e.passages.push(p.passage);
      if (!counted) e.count += 1;
    }
  }
  return out;
}

function corroborated(c: Corroboration): Finding {
  return { statement: clip(`${c.task_ids.length} sources agree: ${c.subject} is ${c.value}${c.unit ? ` ${c.unit}` : ""}.`, 4000), task_ids: c.task_ids };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
