/**
 * The dispatch worker is killed (SIGKILL) mid-plan and another takes over: its plan state is durable
 * and results are applied once, so the session still finishes exactly once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { DATABASE_URL, fastTopology, REDIS_URL } from "../helpers/bus.ts";
import { AGENTS_DIR, openPipeline, type Pipeline } from "../helpers/pipeline.ts";

let p: Pipeline;
const dir = mkdtempSync(join(tmpdir(), "agentbus-dispatch-crash-"));
const topologyFile = join(dir, "topology.json");
const children: ChildProcess[] = [];

function startDispatch(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin/agentbus.js"), "--agents-dir", AGENTS_DIR, "--prefix", p.prefix, "start", "--agents", "dispatch_agent", "--no-http"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: p.schema, AGENTBUS_TOPOLOGY: topologyFile, LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`dispatch worker did not start:\n${log}`)), 20_000);
    child.stderr?.on("data", (c: Buffer) => {
      log += c.toString();
      if (log.includes("agentbus running")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => reject(new Error(`dispatch worker exited early (${code}):\n${log}`)));
  });
}

beforeAll(async () => {
  writeFileSync(topologyFile, JSON.stringify(fastTopology()));
  // Every agent but dispatch runs here; dispatch runs in child processes we can kill.
  p = await openPipeline("dcrash", { agents: ["planning_agent", "action_agent", "reasoning_agent", "memory_agent"] });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await p?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a dispatch worker killed mid-plan", () => {
  it("is replaced, and the session finishes once with one report", async () => {
    const first = await startDispatch();
    const running = p.run(`Summarize ${p.site.slow}/pages/slow.html and ${p.site.main}/pages/wind.html`, 40_000);
    // Wait until dispatch has sent its first tasks (the slow fetch is in flight), then kill it.
    await p.events.waitFor((e) => e.kind === "delivered" && e.agent === "action_agent", 15_000);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    await startDispatch();

    const { view, record } = await running;
    expect(view.status).toBe("success");
    expect(record!.tasks.every((t) => t.status === "succeeded")).toBe(true);
    await p.runtime.store!.audit.flush();
    // The report's `published` row is written by the dispatch process's own audit writer (batched):
    // give it its flush interval, then there must be exactly one report, published and delivered once.
    const reportRows = async (): Promise<Record<string, number>> => {
      const rows = await p.runtime.store!.db.query<{ outcome: string; n: string }>(
        `SELECT outcome, count(*) AS n FROM "${p.schema}".audit_log WHERE session_id = $1 AND envelope->'output'->>'content_type' = 'dispatch_report' GROUP BY outcome`,
        [view.session_id],
      );
      return Object.fromEntries(rows.rows.map((r) => [r.outcome, Number(r.n)]));
    };
    let counts = await reportRows();
    for (let i = 0; i < 50 && !counts.published; i++) {
      await new Promise((r) => setTimeout(r, 100));
      counts = await reportRows();
    }
    expect(counts).toEqual({ published: 1, delivered: 1 });
    expect(view.trace.filter((h) => h.event === "completed" && h.from === "reasoning_agent")).toHaveLength(1);
  });
});
