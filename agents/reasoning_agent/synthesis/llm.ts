/**
 * The LLM-written answer: the prompt holds the task results and nothing else (no request envelope,
 * no raw HTML), and what comes back is checked against them. Only the answer text is the model's;
 * findings stay the deterministic ones, the deterministic contradictions are always kept, and the
 * model's own contradictions are added only when they name tasks of the report.
 */
import { clip, isRecord, type DispatchReport } from "../../_shared/report.ts";
import { confidenceOf, type Synthesis, type SynthesisResult } from "./synthesize.ts";

const MAX_PROMPT_CHARS = 100_000;

export function synthesisPrompt(report: DispatchReport): string {
  let results = resultsJson(report, 6000);
  if (results.length > MAX_PROMPT_CHARS) results = resultsJson(report, 1000);
  if (results.length > MAX_PROMPT_CHARS) results = resultsJson(report, 200);
  return [
    "Write the synthesis of the task results below, using only what they contain.",
    "The answer states what the results show, names the tasks it relies on, says which sources disagree, and says plainly what failed or was skipped and why (with the error codes).",
    'A result with "truncated": true was cut: say so, and never state that something is absent from a document that was cut (it may be in the part not read).',
    'Reply with JSON for the "synthesis" content type: {"answer", "findings": [{"statement", "task_ids"}], "contradictions": [{"subject", "values": [{"value", "task_id"}]}], "confidence"}.',
    "",
    "Task results (JSON):",
    results,
  ].join("\n");
}

function resultsJson(report: DispatchReport, maxString: number): string {
  const tasks = report.tasks.map((t) => ({
    task_id: t.task_id,
    capability: t.capability,
    status: t.status,
    attempts: t.attempts,
    ...(t.depends_on ? { depends_on: t.depends_on } : {}),
    error_code: t.error_code,
    error_message: t.error_message,
    ...(t.domain ? { domain: t.domain } : {}),
    outputs: t.outputs ? shrink(t.outputs, maxString) : null,
  }));
  return JSON.stringify({ tasks, skipped_branches: report.skipped_branches }, null, 1);
}

/** Raw HTML is left out (its text is another task's output); long strings are cut. */
function shrink(value: unknown, maxString: number, key = ""): unknown {
  if (key === "html" && typeof value === "string") return `[${value.length} characters of HTML left out]`;
  if (typeof value === "string") return value.length <= maxString ? value : `${value.slice(0, maxString)}…`;
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => shrink(v, maxString));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shrink(v, maxString, k)]));
  return value;
}

/**
 * The deterministic synthesis with the model's answer text. Returns null when the model's answer is
 * empty (the caller keeps the deterministic answer).
 */
export function withLlmAnswer(base: SynthesisResult, llm: Synthesis, report: DispatchReport): SynthesisResult | null {
  const text = llm.answer.trim();
  if (text.length === 0) return null;
  const taskIds = new Set(report.tasks.map((t) => t.task_id));
  const known = new Set(base.synthesis.contradictions.map((c) => c.subject.toLowerCase()));
  const added = llm.contradictions.filter(
    (c) => !known.has(c.subject.toLowerCase()) && c.values.every((v) => taskIds.has(v.task_id)) && new Set(c.values.map((v) => JSON.stringify(v.value))).size > 1,
  );
  const contradictions = [...base.synthesis.contradictions, ...added].slice(0, 1000);
  // The user must see every disagreement even when the model's text does not mention it.
  const unmentioned = base.synthesis.contradictions.filter((c) => !text.toLowerCase().includes(c.subject.toLowerCase()));
  const note = unmentioned.length
    ? `\n\nThe results disagree:\n${unmentioned.map((c) => `- ${c.subject}: ${c.values.map((v) => `${String(v.value)} (${v.task_id})`).join(" vs ")}`).join("\n")}`
    : "";
  // Cut inputs are always said, in the runtime's words: the model may not have noticed them.
  const cutNote = base.cuts.lines.length ? `\n${base.cuts.lines.join("\n")}` : "";
  const answer = `${text}${note}${cutNote}`;
  const confidence = Math.min(confidenceOf(base.outcome, contradictions.length, base.cuts), llm.confidence);
  return {
    ...base,
    synthesis: { answer: answer.length <= 20_000 ? answer : `${answer.slice(0, 19_999)}…`, findings: base.synthesis.findings, contradictions, confidence },
    reasoning: clip(`${base.reasoning}; answer written by the LLM from the task results (${added.length} contradiction(s) it found added)`, 8000),
  };
}
