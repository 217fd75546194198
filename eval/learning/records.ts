/**
 * Workflow records from a compact description, for the generator and the tests: a chain of steps
 * (each depending on the one before unless told otherwise), valid against workflow_record.
 */
import type { ContentTypeMap } from "../../runtime/envelope/types.ts";

export type WorkflowRecord = ContentTypeMap["workflow_record"];
type Contradiction = NonNullable<WorkflowRecord["contradictions"]>[number];

export interface StepSpec {
  capability: string;
  status?: "succeeded" | "failed" | "skipped";
  attempts?: number;
  error_code?: string;
  domain?: string;
  recoverable?: boolean;
  duration_ms?: number;
  input_chars?: number;
  fingerprint?: string;
  /** Indexes of the steps it depends on; default: the step before (none for the first). */
  after?: number[];
}

export interface WorkflowSpec {
  session_id: string;
  category: string;
  steps: StepSpec[];
  /** Start of the workflow, ms since the epoch; default 2026-02-24T10:00:00Z. */
  at?: number;
  contradictions?: Contradiction[];
  rules_applied?: string[];
}

const DAY = Date.parse("2026-02-24T10:00:00.000Z");

export function workflow(spec: WorkflowSpec): WorkflowRecord {
  const ids = spec.steps.map((_, i) => `t${i + 1}`);
  const tasks = spec.steps.map((s, i) => {
    const status = s.status ?? "succeeded";
    const attempts = s.attempts ?? (status === "skipped" ? 0 : 1);
    return {
      task_id: ids[i] ?? `t${i + 1}`,
      capability: s.capability,
      status,
      attempts,
      ...(s.error_code !== undefined ? { error_code: s.error_code } : {}),
      ...(s.domain !== undefined ? { domain: s.domain } : {}),
      recoverable: s.recoverable ?? false,
      ...(attempts > 0 ? { duration_ms: s.duration_ms ?? 100 } : {}),
      ...(attempts > 0 && s.input_chars !== undefined ? { input_chars: s.input_chars } : {}),
      ...(s.fingerprint !== undefined ? { fingerprint: s.fingerprint } : {}),
    };
  });
  const failed = tasks.filter((t) => t.status !== "succeeded").length;
  const status = failed === 0 && tasks.length > 0 ? "success" : failed < tasks.length ? "partial" : "failed";
  const started = spec.at ?? DAY;
  const total = tasks.reduce((n, t) => n + (t.duration_ms ?? 0), 0);
  return {
    session_id: spec.session_id,
    request_id: `r-${spec.session_id}`,
    request: { text: `synthetic ${spec.category} request`, category: spec.category },
    started_at: new Date(started).toISOString(),
    finished_at: new Date(started + total).toISOString(),
    status,
    plan: spec.steps.map((s, i) => ({
      task_id: ids[i] ?? `t${i + 1}`,
      capability: s.capability,
      depends_on: (s.after ?? (i > 0 ? [i - 1] : [])).map((d) => ids[d] ?? `t${d + 1}`),
    })),
    tasks,
    rules_applied: spec.rules_applied ?? [],
    ...(spec.contradictions && spec.contradictions.length > 0 ? { contradictions: spec.contradictions } : {}),
  };
}
