/**
 * Benchmark (not a test): building a memory summary from workflow records in Postgres, as the
 * memory agent does — claim the batch, stream it in keyset pages, aggregate. It shows the time for
 * 1,000,000 records and that peak memory stays flat: 100,000 and 1,000,000 records need about the
 * same heap, because only one page and the bounded aggregates are ever held.
 *
 *   npx tsx bench/summary.ts [--sizes 100000,1000000] [--page 1000] [--json]
 *
 * Each size runs in a child process of its own (so its peak RSS is its own), on a fresh schema
 * filled by one INSERT … SELECT generate_series (three deployments' worth of capabilities, a few
 * failing domains), which is dropped afterwards. Needs DATABASE_URL or the local Postgres.
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { summarizePages } from "../agents/memory_agent/summary/index.ts";
import { openStore } from "../runtime/store/index.ts";
import { batchPages, claimBatch } from "../runtime/store/memory-batches.ts";
import { DATABASE_URL, dropSchemas, runSchema } from "./postgres.ts";

interface Result {
  records: number;
  fill_s: number;
  claim_s: number;
  summarise_s: number;
  records_per_s: number;
  peak_rss_mb: number;
  peak_heap_mb: number;
  error_clusters: number;
}

const quiet = { info() {}, warn() {}, error() {} };

async function one(size: number, page: number): Promise<Result> {
  const schema = runSchema();
  const db = await openStore({ databaseUrl: DATABASE_URL, schema, logger: quiet, queryTimeoutMs: 3_600_000 });
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  try {
    const t0 = performance.now();
    await db.query(`
      INSERT INTO "${schema}".workflow_records (session_id, request_id, status, category, started_at, finished_at, record)
      SELECT 's-b' || g, 'r-b' || g, st, cat, ts, ts + interval '2 seconds',
        jsonb_build_object(
          'session_id', 's-b' || g, 'request_id', 'r-b' || g,
          'request', jsonb_build_object('text', 'request ' || g, 'category', cat),
          'started_at', to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'finished_at', to_char(ts + interval '2 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'status', st,
          'plan', jsonb_build_array(
            jsonb_build_object('task_id', 't1', 'capability', c1, 'depends_on', '[]'::jsonb),
            jsonb_build_object('task_id', 't2', 'capability', c2, 'depends_on', jsonb_build_array('t1'))),
          'tasks', jsonb_build_array(
            jsonb_build_object('task_id', 't1', 'capability', c1, 'status', CASE WHEN st = 'failed' THEN 'failed' ELSE 'succeeded' END,
              'attempts', CASE WHEN st = 'failed' THEN 3 ELSE 1 END, 'recoverable', st = 'failed', 'domain', dom, 'duration_ms', 200 + (g % 700))
              || CASE WHEN st = 'failed' THEN jsonb_build_object('error_code', 'HTTP_429') ELSE '{}'::jsonb END,
            jsonb_build_object('task_id', 't2', 'capability', c2, 'status', CASE WHEN st = 'failed' THEN 'skipped' ELSE 'succeeded' END,
              'attempts', CASE WHEN st = 'failed' THEN 0 ELSE 1 END, 'recoverable', false, 'duration_ms', 50 + (g % 90))),
          'rules_applied', '[]'::jsonb)
      FROM (
        SELECT g,
          (ARRAY['fetch','download','fetch','load_document'])[1 + g % 4] AS c1,
          (ARRAY['extract_text','transcribe','summarize','ocr'])[1 + g % 4] AS c2,
          (ARRAY['text','media','mentions','docs','compute'])[1 + g % 5] AS cat,
          (ARRAY['a.example','b.example','c.example','busy.example','slow.example','d.example','e.example'])[1 + g % 7] AS dom,
          CASE WHEN g % 7 = 3 AND g % 2 = 0 THEN 'failed' ELSE 'success' END AS st,
          timestamptz '2026-02-24 00:00:00+00' + (g % 86400) * interval '1 second' AS ts
        FROM generate_series(1, $1::int) g) s`,
      [size],
    );
    const t1 = performance.now();
    sample();
    const batch = await claimBatch(db, { trigger: "manual", cutoff: new Date("2026-03-01T00:00:00Z"), day: "20260224", chunk: 20_000 });
    if (!batch || batch.records !== size) throw new Error(`claimed ${batch?.records ?? 0} of ${size} records`);
    const t2 = performance.now();
    const timer = setInterval(sample, 20);
    const pages = (async function* () {
      for await (const p of batchPages(db, batch.batch_id, page)) {
        sample();
        yield p.map((r) => r.record) as never[];
      }
    })();
    const summary = await summarizePages(pages, { batch_id: batch.batch_id, period: { from: "2026-02-24T00:00:00.000Z", to: "2026-02-25T00:00:00.000Z" } });
    clearInterval(timer);
    sample();
    const t3 = performance.now();
    if (summary.counts.workflows !== size) throw new Error(`summary counted ${summary.counts.workflows} of ${size} workflows`);
    return {
      records: size,
      fill_s: (t1 - t0) / 1000,
      claim_s: (t2 - t1) / 1000,
      summarise_s: (t3 - t2) / 1000,
      records_per_s: Math.round(size / ((t3 - t2) / 1000)),
      peak_rss_mb: peakRss / 2 ** 20,
      peak_heap_mb: peakHeap / 2 ** 20,
      error_clusters: summary.error_clusters.length,
    };
  } finally {
    await db.close();
    await dropSchemas(DATABASE_URL, [schema]);
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const page = Number(arg("--page") ?? 1000);
  const child = arg("--child");
  if (child) {
    process.stdout.write(JSON.stringify(await one(Number(child), page)) + "\n");
    return;
  }
  const sizes = (arg("--sizes") ?? "100000,1000000").split(",").map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s <= 0) || !Number.isInteger(page) || page <= 0) {
    throw new Error("usage: summary.ts [--sizes 100000,1000000] [--page 1000] [--json]");
  }
  const results: Result[] = [];
  for (const size of sizes) {
    process.stderr.write(`summarising ${size} records (page ${page}) in a child process…\n`);
    const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, "--child", String(size), "--page", String(page)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    results.push(JSON.parse(out.trim().split("\n").pop() ?? "{}") as Result);
  }
  if (process.argv.includes("--json")) {
    process.stdout.write(JSON.stringify(results, null, 2) + "\n");
    return;
  }
  const f = (n: number, d = 1) => n.toFixed(d);
  process.stdout.write("records     fill s  claim s  summarise s  records/s  peak RSS MB  peak heap MB\n");
  for (const r of results) {
    process.stdout.write(`${String(r.records).padEnd(10)} ${f(r.fill_s).padStart(7)} ${f(r.claim_s).padStart(8)} ${f(r.summarise_s).padStart(12)} ${String(r.records_per_s).padStart(10)} ${f(r.peak_rss_mb).padStart(12)} ${f(r.peak_heap_mb).padStart(13)}\n`);
  }
  const [small, large] = [results[0], results[results.length - 1]];
  if (small && large && small !== large) {
    process.stdout.write(`peak heap ${large.records} vs ${small.records} records: ×${f(large.peak_heap_mb / small.peak_heap_mb, 2)} (flat ≈ 1)\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
