/**
 * `agentbus demo`: a varied set of requests against the local demo site, run through the whole
 * pipeline, with a table of outcomes. The workflow records it leaves behind feed the learning loop.
 */
import type { RequestService, SessionView } from "../http/request-service.ts";
import type { DemoSite } from "./site.ts";
import { textTable } from "../text/table.ts";

export interface DemoRequest {
  label: string;
  text: string;
  /** What a reader should expect to see, for the table. */
  expect: string;
}

/** The demo's requests, `rounds` times over (the learning loop needs a pattern to recur). */
export function demoRequests(site: DemoSite, rounds = 1): DemoRequest[] {
  return Array.from({ length: rounds }, (_, i) => oneRound(site, i + 1)).flat();
}

/** The busy host answers 429 twice per URL: a round number of its own makes every round alike. */
function oneRound(site: DemoSite, round: number): DemoRequest[] {
  return [
    { label: "summary", text: `Summarize ${site.main}/pages/solar.html`, expect: "success" },
    { label: "mentions", text: `Find mentions of "battery" in ${site.main}/pages/solar.html`, expect: "success" },
    { label: "two sources", text: `Summarize ${site.main}/pages/solar.html and ${site.main}/pages/solar-update.html`, expect: "success, with a contradiction" },
    { label: "compute", text: "What is (17 + 25) * 3?", expect: "success: 126" },
    { label: "429 then ok", text: `Summarize ${site.busy}/pages/busy.html?round=${round}`, expect: "success after retries" },
    { label: "429 always", text: `Summarize ${site.limited}/pages/always-busy.html`, expect: "failed: HTTP_429 after 3 attempts (1 under a fail-fast rule)" },
    { label: "404", text: `Summarize ${site.main}/pages/missing.html`, expect: "failed: HTTP_404, dependants skipped" },
    { label: "slow host", text: `Summarize ${site.slow}/pages/slow.html`, expect: "success, slowly" },
    { label: "unplannable", text: "Tell me a joke", expect: "failed: UNPLANNABLE" },
  ];
}

export interface DemoOutcome {
  label: string;
  text: string;
  expect: string;
  session_id: string;
  status: string;
  ms: number | null;
  tasks: { succeeded: number; failed: number; skipped: number };
  attempts: number;
  error_codes: string[];
  contradictions: number;
  answer: string;
  /** The approved rules the session's workflow record says were applied. */
  rules_applied: string[];
}

export async function runDemo(service: RequestService, requests: DemoRequest[], options: { timeoutMs?: number; onProgress?: (line: string) => void } = {}): Promise<DemoOutcome[]> {
  const submitted = [];
  for (const r of requests) {
    const s = await service.submit({ text: r.text, category: r.label.replace(/[^a-z0-9]+/g, "_") }, "user");
    options.onProgress?.(`submitted ${r.label.padEnd(12)} ${s.session_id}`);
    submitted.push({ request: r, session_id: s.session_id });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const views = new Map<string, SessionView>();
  while (views.size < submitted.length && Date.now() < deadline) {
    for (const s of submitted) {
      if (views.has(s.session_id)) continue;
      const view = await service.session(s.session_id);
      if (view.finished_at) {
        views.set(s.session_id, view);
        options.onProgress?.(`finished  ${s.request.label.padEnd(12)} ${view.status}`);
      }
    }
    if (views.size < submitted.length) await new Promise((r) => setTimeout(r, 250));
  }
  // The memory agent writes the record a moment after the answer: give it that moment.
  const outcomes: DemoOutcome[] = [];
  for (const s of submitted) {
    const view = views.get(s.session_id) ?? (await service.session(s.session_id));
    let record = await service.workflowRecord(s.session_id);
    for (let i = 0; i < 20 && !record && view.finished_at; i++) {
      await new Promise((r) => setTimeout(r, 100));
      record = await service.workflowRecord(s.session_id);
    }
    outcomes.push(outcome(s.request, s.session_id, view, record));
  }
  return outcomes;
}

interface RecordTask {
  status?: string;
  attempts?: number;
  error_code?: string;
}

function outcome(r: DemoRequest, sessionId: string, view: SessionView, record: Record<string, unknown> | null): DemoOutcome {
  const answer = (view.answer ?? {}) as { answer?: unknown; contradictions?: unknown[] };
  const tasks = { succeeded: 0, failed: 0, skipped: 0 };
  let attempts = 0;
  const codes = new Set<string>();
  for (const t of (Array.isArray(record?.tasks) ? record.tasks : []) as RecordTask[]) {
    if (t.status === "succeeded" || t.status === "failed" || t.status === "skipped") tasks[t.status] += 1;
    attempts += t.attempts ?? 0;
    if (t.error_code) codes.add(t.error_code);
  }
  for (const hop of view.trace) if (hop.error_code && hop.content_type !== "action_result") codes.add(hop.error_code);
  return {
    label: r.label,
    text: r.text,
    expect: r.expect,
    session_id: sessionId,
    status: view.finished_at ? view.status : "unfinished",
    ms: view.finished_at ? Date.parse(view.finished_at) - Date.parse(view.started_at) : null,
    tasks,
    attempts,
    error_codes: [...codes].sort(),
    contradictions: Array.isArray(answer.contradictions) ? answer.contradictions.length : 0,
    answer: typeof answer.answer === "string" ? answer.answer : "",
    rules_applied: Array.isArray(record?.rules_applied) ? record.rules_applied.filter((r): r is string => typeof r === "string") : [],
  };
}

export function outcomeTable(outcomes: DemoOutcome[]): string {
  const header = ["request", "status", "ms", "tasks ok/failed/skipped", "attempts", "errors", "contradictions", "rules", "expected"];
  const rows = outcomes.map((o) => [
    o.label,
    o.status,
    o.ms === null ? "-" : String(o.ms),
    `${o.tasks.succeeded}/${o.tasks.failed}/${o.tasks.skipped}`,
    String(o.attempts),
    o.error_codes.join(",") || "-",
    String(o.contradictions),
    o.rules_applied.join(",") || "-",
    o.expect,
  ]);
  return `${textTable(header, rows)}\n`;
}
