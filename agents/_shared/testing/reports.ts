/** Dispatch reports as the dispatch agent writes them, for the reasoning and memory tests. */
import type { DispatchReport, TaskReport } from "../report.ts";

type Extra = Partial<TaskReport>;

export function fetched(task_id: string, domain: string, extra: Extra = {}): TaskReport {
  const html = `<html><head><title>${domain}</title></head><body>…</body></html>`;
  return {
    task_id,
    capability: "fetch",
    status: "succeeded",
    attempts: 1,
    error_code: null,
    error_message: null,
    outputs: { html, status: 200, content_type: "text/html", domain, bytes: html.length },
    duration_ms: 120,
    domain,
    depends_on: [],
    recoverable: false,
    ...extra,
  };
}

export function extracted(task_id: string, from: string, title: string, text: string, extra: Extra = {}): TaskReport {
  return ok(task_id, "extract_text", { text, title }, [from], extra);
}

export function mentions(task_id: string, from: string[], found: Record<string, string[]>, extra: Extra = {}): TaskReport {
  const passages = Object.entries(found).flatMap(([term, ps]) => ps.map((passage) => ({ term, passage })));
  const counts = Object.fromEntries(Object.entries(found).map(([term, ps]) => [term, ps.length]));
  return ok(task_id, "find_mentions", { passages, counts }, from, extra);
}

export function summarized(task_id: string, from: string, summary: string, extra: Extra = {}): TaskReport {
  return ok(task_id, "summarize", { summary }, [from], extra);
}

export function computed(task_id: string, expression: string, value: number, extra: Extra = {}): TaskReport {
  return ok(task_id, "compute", { value, expression }, [], extra);
}

export function failed(task_id: string, capability: string, code: string, extra: Extra = {}): TaskReport {
  return {
    task_id,
    capability,
    status: "failed",
    attempts: 1,
    error_code: code,
    error_message: `${code} while running ${task_id}`,
    outputs: null,
    duration_ms: 40,
    depends_on: [],
    recoverable: false,
    ...extra,
  };
}

export function skipped(task_id: string, capability: string, depends_on: string[]): TaskReport {
  return { task_id, capability, status: "skipped", attempts: 0, error_code: null, error_message: null, outputs: null, duration_ms: 0, depends_on, recoverable: false };
}

export function report(tasks: TaskReport[], extra: Partial<DispatchReport> = {}): DispatchReport {
  return {
    plan_id: "plan-1",
    tasks,
    skipped_branches: tasks.filter((t) => t.status === "skipped").map((t) => t.task_id),
    request: "What does the page say about Lyon?",
    rules_applied: [],
    ...extra,
  };
}

function ok(task_id: string, capability: string, outputs: TaskReport["outputs"], depends_on: string[], extra: Extra): TaskReport {
  return { task_id, capability, status: "succeeded", attempts: 1, error_code: null, error_message: null, outputs, duration_ms: 15, depends_on, recoverable: false, ...extra };
}

/** Two pages about Lyon whose population figures disagree, each fetched, extracted and summarized. */
export function twoPagesDisagreeing(): DispatchReport {
  return report([
    fetched("t1", "a.example"),
    extracted("t2", "t1", "Lyon — A", "Lyon is a city in France. The population of Lyon is 513,275. It lies on the Rhône."),
    fetched("t3", "b.example"),
    extracted("t4", "t3", "Lyon — B", "Lyon has a population of 522,228. The city hosts a famous festival of lights."),
    summarized("t5", "t2", "The population of Lyon is 513,275."),
  ]);
}
