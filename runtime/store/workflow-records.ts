/**
 * Storage for `workflow_record` content (DESIGN.md §3): one per finished session, written by the
 * memory agent, read by window for summaries and learning. The record is kept whole as jsonb; the
 * columns queries filter on are copied out of it.
 */
import { AgentbusError, type Issue } from "../errors/index.ts";
import { canonicalJson } from "./canonical.ts";
import { table, type Db } from "./db.ts";

/** The fields the store needs; the full shape is the workflow_record schema's business. */
export interface WorkflowRecordInput {
  session_id: string;
  request_id: string;
  status: string;
  started_at: string;
  finished_at: string;
  request?: { category?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

export interface StoredWorkflowRecord {
  sessionId: string;
  requestId: string;
  status: string;
  category: string | null;
  startedAt: Date;
  finishedAt: Date;
  record: WorkflowRecordInput;
}

export interface WindowQuery {
  /** Inclusive lower bound on finished_at. */
  from: Date;
  /** Exclusive upper bound on finished_at. */
  to: Date;
  status?: string;
  category?: string;
}

/** A workflow_records row as pg returns it. */
export interface WorkflowRecordRow {
  session_id: string;
  request_id: string;
  status: string;
  category: string | null;
  started_at: Date;
  finished_at: Date;
  record: WorkflowRecordInput;
}

/** Inserts a record; a second insert for the same session is a no-op (redelivery). */
export async function insertWorkflowRecord(db: Db, record: WorkflowRecordInput): Promise<{ inserted: boolean }> {
  const issues = check(record);
  if (issues.length > 0) {
    throw new AgentbusError("WORKFLOW_RECORD_INVALID", `workflow record is invalid: ${issues.map((i) => `${i.pointer} ${i.message}`).join("; ")}`, { issues });
  }
  const category = typeof record.request?.category === "string" ? record.request.category : null;
  const r = await db.query(
    `INSERT INTO ${table(db, "workflow_records")} (session_id, request_id, status, category, started_at, finished_at, record)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (session_id) DO NOTHING`,
    [record.session_id, record.request_id, record.status, category, record.started_at, record.finished_at, canonicalJson(record)],
  );
  return { inserted: r.rowCount === 1 };
}

/** Records finished in [from, to), oldest first; at most `limit` (default 1000). Use streamWindow for more. */
export async function listWorkflowRecords(db: Db, query: WindowQuery & { limit?: number }): Promise<StoredWorkflowRecord[]> {
  const { where, params } = windowFilter(query);
  params.push(Math.max(1, Math.min(query.limit ?? 1000, 10_000)));
  const r = await db.query<WorkflowRecordRow>(`SELECT * FROM ${table(db, "workflow_records")} WHERE ${where} ORDER BY finished_at, session_id LIMIT $${params.length}`, params);
  return r.rows.map(toStored);
}

/**
 * Every record finished in [from, to), oldest first, fetched in keyset pages of `pageSize`: memory
 * stays bounded by one page however large the window is.
 */
export async function* streamWindow(db: Db, from: Date, to: Date, options: { pageSize?: number; status?: string; category?: string } = {}): AsyncGenerator<StoredWorkflowRecord> {
  const pageSize = Math.max(1, options.pageSize ?? 500);
  const records = table(db, "workflow_records");
  let after: string | null = null;
  for (;;) {
    const { where, params } = windowFilter({ from, to, ...pick(options) });
    let cursor = "";
    if (after !== null) {
      params.push(after);
      // Compare with the stored row itself: timestamptz has microseconds that a JS Date would lose.
      cursor = ` AND (finished_at, session_id) > (SELECT finished_at, session_id FROM ${records} WHERE session_id = $${params.length})`;
    }
    const r = await db.query<WorkflowRecordRow>(`SELECT * FROM ${records} WHERE ${where}${cursor} ORDER BY finished_at, session_id LIMIT ${pageSize}`, params);
    for (const row of r.rows) yield toStored(row);
    const last = r.rows[r.rows.length - 1];
    if (!last || r.rows.length < pageSize) return;
    after = last.session_id;
  }
}

function pick(options: { status?: string; category?: string }): { status?: string; category?: string } {
  return { ...(options.status !== undefined ? { status: options.status } : {}), ...(options.category !== undefined ? { category: options.category } : {}) };
}

function windowFilter(query: WindowQuery): { where: string; params: unknown[] } {
  const params: unknown[] = [query.from.toISOString(), query.to.toISOString()];
  let where = "finished_at >= $1 AND finished_at < $2";
  if (query.status !== undefined) {
    params.push(query.status);
    where += ` AND status = $${params.length}`;
  }
  if (query.category !== undefined) {
    params.push(query.category);
    where += ` AND category = $${params.length}`;
  }
  return { where, params };
}

function check(record: WorkflowRecordInput): Issue[] {
  const issues: Issue[] = [];
  if (typeof record !== "object" || record === null) return [{ pointer: "", message: "must be an object", rule: "guard" }];
  for (const key of ["session_id", "request_id", "status"] as const) {
    const v: unknown = record[key];
    if (typeof v !== "string" || v.length === 0 || v.length > 256) issues.push({ pointer: `/${key}`, message: "must be a non-empty string of at most 256 characters", rule: "guard" });
  }
  for (const key of ["started_at", "finished_at"] as const) {
    const v: unknown = record[key];
    if (typeof v !== "string" || Number.isNaN(Date.parse(v))) issues.push({ pointer: `/${key}`, message: "must be an ISO-8601 date-time", rule: "guard" });
  }
  return issues;
}

export function toStored(row: WorkflowRecordRow): StoredWorkflowRecord {
  return {
    sessionId: row.session_id,
    requestId: row.request_id,
    status: row.status,
    category: row.category,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    record: row.record,
  };
}

/** The workflow record of one session, if the memory agent has written it. */
export async function getWorkflowRecord(db: Db, sessionId: string): Promise<WorkflowRecordInput | null> {
  const r = await db.query<{ record: WorkflowRecordInput }>(`SELECT record FROM ${table(db, "workflow_records")} WHERE session_id = $1`, [sessionId]);
  return r.rows[0]?.record ?? null;
}
