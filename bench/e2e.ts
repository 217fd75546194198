/**
 * End to end: whole sessions through the real pipeline agents in agents/ (planning → dispatch →
 * action ×3 → reasoning → memory), offline (llmConfig: null: the deterministic agents), with the
 * store on a real Postgres (a schema of the run's own) and a local page host (startDemoSite).
 *
 * The request is `Summarize <main>/pages/solar.html`: plan fetch → extract_text → summarize, three
 * tasks in a chain (checked on a warm-up session's workflow record). Sessions enter through
 * RequestService.submit, as `agentbus submit` and the HTTP API do. A closed loop keeps `inFlight`
 * sessions open: whenever one finishes, another is submitted, until `sessions` have finished.
 *
 * A session counts as finished when its `sessions` row has finished_at, which the audit writer's
 * session projection sets in the same transaction as the `completed` audit row (reasoning's
 * synthesis → COMPLETE). Completions are found by polling that table: one indexed query for all
 * in-flight session ids every `pollMs` (default 50 ms), on a connection of the bench's own, so the
 * runtime's pool is not shared with the measuring. The loop sees a finish only once it is committed
 * and the next poll runs, so the observed latency includes the audit flush (≤ 50 ms) and the poll
 * interval; the recorded latency (finished_at − started_at, both written by the runtime) does not.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import pg from "pg";
import { loadConfig } from "../runtime/config/config.ts";
import { demoFetchAllow, startDemoSite, type DemoSite } from "../runtime/demo/site.ts";
import type { RequestService } from "../runtime/http/request-service.ts";
import { silentLogger } from "../runtime/log/logger.ts";
import { PROJECT_ROOT } from "../runtime/paths.ts";
import { Runtime } from "../runtime/runtime.ts";
import { verifyAudit } from "../runtime/store/index.ts";
import { committed } from "./agentbus.ts";
import { meter, type CpuSpent } from "./scenarios.ts";
import { percentile } from "./stats.ts";
import { sessionStages } from "./e2e-stages.ts";
import type { Dist, E2eFigures, E2eOptions, Finished, LoopResult } from "./e2e-types.ts";

export type { Dist, E2eFigures, E2eOptions } from "./e2e-types.ts";

export const PIPELINE_AGENTS_DIR = join(PROJECT_ROOT, "agents");
export const PIPELINE_AGENTS = ["planning_agent", "dispatch_agent", "action_agent", "reasoning_agent", "memory_agent"];
const EXPECTED_PLAN = ["fetch", "extract_text", "summarize"];
const STALL_MS = 30_000;

const dist = (values: readonly number[]): Dist => ({
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  mean: values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length,
  max: values.length === 0 ? Number.NaN : Math.max(...values),
});

const tally = (values: readonly string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Owns the runtime, the page host and the poll connection; close() releases all three. */
export class E2eBench {
  private closed = false;

  private constructor(
    private readonly o: E2eOptions,
    private readonly runtime: Runtime,
    private readonly site: DemoSite,
    private readonly poll: pg.Client,
  ) {}

  static async open(o: E2eOptions): Promise<E2eBench> {
    const site = await startDemoSite();
    // The page host is on loopback, which fetch refuses unless allowed: allow exactly its ports.
    const config = loadConfig(
      {},
      { root: PROJECT_ROOT, agentsDir: PIPELINE_AGENTS_DIR, redisUrl: o.redisUrl, queuePrefix: o.prefix, logLevel: "silent", databaseUrl: o.databaseUrl, dbSchema: o.schema, fetchAllow: demoFetchAllow(site) },
    );
    let runtime: Runtime | undefined;
    const poll = new pg.Client({ connectionString: o.databaseUrl, connectionTimeoutMillis: 5000, application_name: "agentbus-bench-e2e-poll" });
    try {
      runtime = await Runtime.open({ config, logger: silentLogger(), store: true, llmConfig: null });
      const broken = runtime.agents.broken;
      if (broken.length > 0) throw new Error(`pipeline agents failed to load: ${broken.map((b) => `${b.file}: ${b.error}`).join("; ")}`);
      const missing = PIPELINE_AGENTS.filter((n) => !runtime?.agents.get(n));
      if (missing.length > 0) throw new Error(`pipeline agents missing from ${PIPELINE_AGENTS_DIR}: ${missing.join(", ")}`);
      await poll.connect();
      return new E2eBench(o, runtime, site, poll);
    } catch (err) {
      await runtime?.close();
      await poll.end().catch(() => undefined);
      await site.close();
      throw err;
    }
  }

  private get store(): NonNullable<Runtime["store"]> {
    const store = this.runtime.store;
    if (!store) throw new Error("the e2e runtime has no store");
    return store;
  }

  private t(name: string): string {
    return `"${this.o.schema}".${name}`;
  }

  async run(): Promise<E2eFigures> {
    const { o, runtime } = this;
    const loadStart = loadavg()[0] ?? 0;
    const request = `Summarize ${this.site.main}/pages/solar.html`;
    const agents = runtime.agents.names().map((name) => ({ name, concurrency: runtime.agents.get(name)?.spec.concurrency ?? Number.NaN }));
    const hosts = runtime.startAgents();
    await Promise.all(hosts.map((h) => h.worker.waitUntilReady()));
    const service = runtime.requestService();
    o.log(`e2e: agents ${agents.map((a) => `${a.name}×${a.concurrency}`).join(", ")}; request "${request}"`);

    // One session alone: the plan must be the 3-task chain, and it must succeed.
    const first = await this.loop(service, request, { warmup: 0, measured: 1, inFlight: 1 });
    const one = first.measured[0];
    const plan = await this.planOf(one?.sessionId ?? "");
    if (one?.status !== "success") throw new Error(`e2e warm-up session ${one?.sessionId ?? "?"} ended ${one?.status ?? "?"}: ${JSON.stringify(one?.error)}`);
    if (plan.join(",") !== EXPECTED_PLAN.join(",")) throw new Error(`e2e: expected the plan ${EXPECTED_PLAN.join(" → ")}, got ${plan.join(" → ") || "none"}`);
    o.log(`  single session: ${one.recordedMs.toFixed(0)} ms recorded, plan ${plan.join(" → ")} (${plan.length} tasks)`);
    await committed(this.store.audit);

    const loop = await this.loop(service, request, { warmup: o.warmup, measured: o.sessions, inFlight: o.inFlight });
    const ids = loop.measured.map((f) => f.sessionId);
    await this.records(loop.all); // the tail's too, so nothing is being written while the audit log is verified
    const records = await this.records(ids);
    await committed(this.store.audit);
    const rows = Number((await this.poll.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.t("audit_log")} WHERE session_id = ANY($1::text[])`, [ids])).rows[0]?.n ?? Number.NaN);
    o.log(`  ${loop.measured.length} measured sessions (after ${o.warmup} warm-up, ${loop.tail} more submitted to keep ${o.inFlight} in flight): ${loop.finishedInWindow} finished in ${loop.ms.toFixed(0)} ms`);

    const v0 = performance.now();
    const verified = await verifyAudit(this.store.db);
    const verifyMs = performance.now() - v0;

    const recorded = loop.measured.map((f) => f.recordedMs);
    const observed = loop.measured.map((f) => f.observedMs);
    const seen = loop.measured.map((f) => f.seenAt);
    const measuredPerSec = loop.measured.length < 2 ? Number.NaN : ((loop.measured.length - 1) * 1000) / (Math.max(...seen) - Math.min(...seen));
    const bySubmission = [...loop.measured].sort((a, b) => a.index - b.index);
    const tenths = Array.from({ length: Math.min(10, bySubmission.length) }, (_, i) => {
      const part = bySubmission.slice(Math.floor((i * bySubmission.length) / 10), Math.floor(((i + 1) * bySubmission.length) / 10));
      return dist(part.map((f) => f.recordedMs)).mean;
    });
    const latency = dist(recorded);
    const flushes = loop.writer.flushes;
    return {
      request,
      plan,
      agents,
      sessions: loop.measured.length,
      warmup_sessions: o.warmup + 1,
      tail_sessions: loop.tail,
      in_flight: o.inFlight,
      poll_ms: o.pollMs,
      sessions_per_s: (loop.finishedInWindow * 1000) / loop.ms,
      ms: loop.ms,
      finished_in_window: loop.finishedInWindow,
      measured_sessions_per_s: measuredPerSec,
      latency_by_tenth_ms: tenths,
      latency_recorded_ms: latency,
      latency_observed_ms: dist(observed),
      submit_ms: dist(loop.measured.map((f) => f.submitMs)),
      statuses: tally(loop.measured.map((f) => f.status)),
      not_success: loop.measured.filter((f) => f.status !== "success").slice(0, 10).map((f) => ({ session_id: f.sessionId, status: f.status, error: f.error })),
      other_not_success: loop.otherNotSuccess,
      workflow_records: records,
      audit: {
        rows,
        rows_per_session: rows / ids.length,
        flushes,
        rows_per_flush: loop.writer.written / flushes,
        verify_ok: verified.ok,
        verify_problem: verified.ok ? null : `${verified.broken.map((b) => `${b.problem} at ${b.chainKey ?? "the commitment"} seq ${b.seq ?? "?"}: ${b.message}`).join("; ")}`,
        verify_chains: verified.chains,
        verify_rows: verified.rows,
        verify_ms: verifyMs,
      },
      poll: { queries: loop.queries, mean_query_ms: loop.queryMs / loop.queries },
      cpu_per_session_ms: perSession(loop.cpu, loop.finishedInWindow),
      stages: await sessionStages(this.poll, this.t("audit_log"), ids, latency.mean),
      load: { start: loadStart, end: loadavg()[0] ?? 0 },
    };
  }

  /**
   * The closed loop: `inFlight` sessions open at all times (a submit under way counts), a new one
   * submitted for every one found finished. Sessions 0 … warmup−1 warm up; the next `measured` are
   * measured; further ones (the tail) only keep the loop full until the last measured one has
   * finished, then the loop drains untimed. The window runs from the first measured submit to the
   * last measured finish (at warmup ≥ inFlight the loop is full throughout); the CPU meter and the
   * audit writer's counters cover it.
   */
  private async loop(service: RequestService, text: string, plan: { warmup: number; measured: number; inFlight: number }): Promise<LoopResult> {
    const open = new Map<string, { index: number; t0: number; submitMs: number }>();
    const measured: Finished[] = [];
    const all: string[] = [];
    let otherNotSuccess = 0;
    let launched = 0;
    let submitting = 0;
    const failed: { error: Error | null } = { error: null }; // set by a submit's rejection
    const firstMeasured = plan.warmup;
    const endMeasured = plan.warmup + plan.measured;
    const launch = (): void => {
      const index = launched++;
      submitting++;
      const t0 = performance.now();
      service.submit({ text }, "user").then(
        (s) => {
          submitting--;
          open.set(s.session_id, { index, t0, submitMs: performance.now() - t0 });
        },
        (err: unknown) => {
          failed.error ??= err instanceof Error ? err : new Error(`submit failed: ${inspect(err)}`);
        },
      );
    };
    let windowStart: number | null = null;
    let windowEnd = 0;
    let finishedInWindow = 0;
    let stopMeter: (() => Promise<CpuSpent>) | null = null;
    let cpu: CpuSpent = { nodeMs: Number.NaN, redisMs: Number.NaN, postgresMs: Number.NaN };
    let writer0 = this.store.audit.stats();
    let writer: LoopResult["writer"] = { flushes: 0, written: 0 };
    const startWindow = async (): Promise<void> => {
      stopMeter = await meter(this.o.probes);
      writer0 = this.store.audit.stats();
      windowStart = performance.now();
    };
    const fill = async (): Promise<void> => {
      while (launched - (measured.length + finishedOther) < plan.inFlight && (measured.length < plan.measured || launched < endMeasured)) {
        if (launched === firstMeasured) await startWindow();
        launch();
      }
    };
    let finishedOther = 0;
    let queries = 0;
    let queryMs = 0;
    let lastProgress = performance.now();
    await fill();
    for (;;) {
      if (failed.error !== null) throw failed.error;
      const q0 = performance.now();
      if (open.size > 0) {
        const r = await this.poll.query<{ session_id: string; status: string; error: unknown; ms: number }>(
          `SELECT session_id, status, error, (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS ms
           FROM ${this.t("sessions")} WHERE session_id = ANY($1::text[]) AND finished_at IS NOT NULL`,
          [[...open.keys()]],
        );
        const now = performance.now();
        queries++;
        queryMs += now - q0;
        const measuring = windowStart !== null && stopMeter !== null && measured.length < plan.measured;
        for (const row of r.rows) {
          const entry = open.get(row.session_id);
          if (!entry) continue;
          open.delete(row.session_id);
          all.push(row.session_id);
          lastProgress = now;
          if (measuring) finishedInWindow++;
          if (entry.index >= firstMeasured && entry.index < endMeasured) {
            measured.push({ sessionId: row.session_id, status: row.status, error: row.error, recordedMs: row.ms, observedMs: now - entry.t0, submitMs: entry.submitMs, seenAt: now, index: entry.index });
          } else {
            finishedOther++;
            if (row.status !== "success") otherNotSuccess++;
          }
        }
        if (measuring && measured.length >= plan.measured && stopMeter !== null) {
          windowEnd = now;
          cpu = await (stopMeter as () => Promise<CpuSpent>)();
          const w = this.store.audit.stats();
          writer = { flushes: w.flushes - writer0.flushes, written: w.written - writer0.written };
        }
        await fill();
      }
      if (measured.length >= plan.measured && open.size === 0 && submitting === 0) break;
      if (performance.now() - lastProgress > STALL_MS) {
        throw new Error(`e2e: no session finished for ${STALL_MS} ms; ${measured.length} of ${plan.measured} measured sessions finished, ${open.size} open (e.g. ${[...open.keys()].slice(0, 3).join(", ")})`);
      }
      await sleep(Math.max(0, this.o.pollMs - (performance.now() - q0)));
    }
    return { measured, ms: windowEnd - (windowStart ?? windowEnd), finishedInWindow, all, tail: launched - endMeasured, otherNotSuccess, queries, queryMs, cpu, writer };
  }

  /** The capabilities of the session's plan, from its workflow record (waits for it). */
  private async planOf(sessionId: string): Promise<string[]> {
    await this.records([sessionId]);
    const r = await this.poll.query<{ record: { plan?: Array<{ capability: string }> } }>(`SELECT record FROM ${this.t("workflow_records")} WHERE session_id = $1`, [sessionId]);
    return (r.rows[0]?.record.plan ?? []).map((t) => t.capability);
  }

  /** Waits until the memory agent has written a workflow record for every one of the sessions. */
  private async records(ids: readonly string[]): Promise<E2eFigures["workflow_records"]> {
    const t0 = performance.now();
    for (;;) {
      const r = await this.poll.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM ${this.t("workflow_records")} WHERE session_id = ANY($1::text[]) GROUP BY status`, [ids]);
      const statuses = Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
      const written = r.rows.reduce((a, x) => a + x.n, 0);
      if (written >= ids.length) return { written, statuses, last_after_ms: performance.now() - t0 };
      if (performance.now() - t0 > STALL_MS) throw new Error(`e2e: only ${written} of ${ids.length} workflow records written after ${STALL_MS} ms`);
      await sleep(this.o.pollMs);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.runtime.close();
    } finally {
      await this.poll.end().catch(() => undefined);
      await this.site.close();
    }
  }
}

function perSession(cpu: CpuSpent, n: number): E2eFigures["cpu_per_session_ms"] {
  return { node: cpu.nodeMs / n, redis: cpu.redisMs / n, postgres: cpu.postgresMs / n };
}
