/** `agentbus trace <session_id>`: a session's messages in order, as a readable timeline. */
import type { Command } from "commander";
import { NotFoundError } from "../../errors/index.ts";
import { getSession, getTrace, type TraceEntry } from "../../store/sessions.ts";
import { configFrom, withStore } from "../context.ts";
import { formatIssues, printJson } from "../output.ts";
import { columns } from "../../text/table.ts";

interface LooseEnvelope {
  agent?: { name?: string };
  next_agent?: { name?: string };
  output?: { content_type?: string };
  status?: { code?: string };
  error?: { has_error?: boolean; error_code?: string | null; error_message?: string | null };
  metadata?: { sequence_number?: number };
}

export function registerTrace(program: Command): void {
  program
    .command("trace")
    .description("print a session's messages in order: agent, content type, status, error, time between hops")
    .argument("<session_id>")
    .option("--json", "print the session and its envelopes as JSON")
    .action(async (sessionId: string, opts: { json?: boolean }) => {
      const config = configFrom(program);
      const { session, trace } = await withStore(config, async (db) => ({ session: await getSession(db, sessionId), trace: await getTrace(db, sessionId) }));
      if (!session && trace.length === 0) throw new NotFoundError(`session ${sessionId}`);
      if (opts.json) {
        printJson({
          session,
          envelopes: trace.filter((e) => e.outcome === "published" || e.outcome === "completed").map((e) => e.envelope),
          events: trace.map((e) => ({ outcome: e.outcome, agent: e.agent, message_id: e.messageId, recorded_at: e.recordedAt, reasons: e.reasons })),
        });
        return;
      }
      if (session) {
        const took = session.finishedAt ? ` in ${session.finishedAt.getTime() - session.startedAt.getTime()} ms` : "";
        process.stdout.write(`session ${session.sessionId}  request ${session.requestId ?? "?"}  ${session.status}${took}  (started ${session.startedAt.toISOString()})\n\n`);
      }
      process.stdout.write(timeline(trace));
      if (session?.answer !== null && session?.answer !== undefined) process.stdout.write(`\nanswer: ${JSON.stringify(session.answer)}\n`);
    });
}

/**
 * One row per audit event, in sequence order. "+ms" is the time since the session's first event;
 * "hop ms" is how long the step took: for a delivery, the time the message waited in its queue
 * (its first publish → this delivery); for a message sent by an agent, the time the agent took (the
 * first delivery of its parent → this message). A message published again under the same id (older
 * logs recorded that) shows as "republished", with no hop of its own. Hops are never negative: a
 * clock that disagrees between two machines shows as 0, not as time running backwards.
 */
export function timeline(trace: TraceEntry[]): string {
  const header = ["seq", "+ms", "hop ms", "event", "from → to", "content type", "status", "error"];
  const rows: string[][] = [];
  const notes = new Map<number, string>();
  const start = Math.min(...trace.map((e) => e.recordedAt.getTime()));
  const publishedAt = new Map<string, number>();
  const deliveredAt = new Map<string, number>();
  const earliest = (map: Map<string, number>, id: string, at: number): void => {
    const seen = map.get(id);
    if (seen === undefined || at < seen) map.set(id, at);
  };
  for (const e of trace) {
    if (!e.messageId) continue;
    if (e.outcome === "published") earliest(publishedAt, e.messageId, e.recordedAt.getTime());
    if (e.outcome === "delivered") earliest(deliveredAt, e.messageId, e.recordedAt.getTime());
  }
  const shown = new Set<string>();
  for (const e of trace) {
    const env = (e.envelope ?? {}) as LooseEnvelope & { metadata?: { parent_message_id?: string | null } };
    const at = e.recordedAt.getTime();
    const parent = env.metadata?.parent_message_id;
    const again = e.outcome === "published" && e.messageId !== null && shown.has(e.messageId);
    if (e.outcome === "published" && e.messageId) shown.add(e.messageId);
    const since = again ? undefined : e.outcome === "delivered" ? (e.messageId ? publishedAt.get(e.messageId) : undefined) : parent ? deliveredAt.get(parent) : undefined;
    const hop = since === undefined ? "" : String(Math.max(0, at - since));
    const route = e.outcome === "delivered" ? `→ ${e.agent}` : `${env.agent?.name ?? "?"} → ${env.next_agent?.name ?? "?"}`;
    const error = env.error?.has_error ? `${env.error.error_code ?? ""}${env.error.error_message ? `: ${env.error.error_message}` : ""}` : "";
    rows.push([String(env.metadata?.sequence_number ?? "?"), String(at - start), hop, again ? "republished" : e.outcome, route, env.output?.content_type ?? "?", env.status?.code ?? "?", error]);
    if (e.reasons?.length) notes.set(rows.length - 1, formatIssues(e.reasons, "      "));
  }
  const { line } = columns(header, rows);
  const out = [line(header), ...rows.flatMap((r, i) => [line(r), ...(notes.has(i) ? [notes.get(i) ?? ""] : [])])];
  return `${out.join("\n")}\n`;
}
