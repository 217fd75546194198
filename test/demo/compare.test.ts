import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compareRuns, comparisonTable, figuresByLabel, lastRunFile, readLastRun, saveLastRun } from "../../runtime/demo/compare.ts";
import type { DemoOutcome } from "../../runtime/demo/run-demo.ts";

function outcome(label: string, attempts: number, ms: number | null, status = "success", rules: string[] = []): DemoOutcome {
  return { label, text: label, expect: "", session_id: `s-${label}`, status, ms, tasks: { succeeded: 1, failed: 0, skipped: 0 }, attempts, error_codes: [], contradictions: 0, answer: "", rules_applied: rules };
}

describe("demo before/after", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("averages each request over its rounds and lists the rules its sessions applied", () => {
    const f = figuresByLabel([outcome("429 always", 3, 2000, "failed"), outcome("429 always", 1, 100, "failed", ["rule_20261201_01"]), outcome("compute", 1, null)]);
    expect(f.get("429 always")).toEqual({ sessions: 2, statuses: "failed", attempts_mean: 2, ms_mean: 1050, rules_applied: ["rule_20261201_01"] });
    expect(f.get("compute")?.ms_mean).toBeNull();
  });

  it("shows what changed per request and in total, and requests only one side had", () => {
    const rows = compareRuns([outcome("429 always", 3, 2300, "failed"), outcome("404", 1, 150, "failed")], [outcome("429 always", 1, 60, "failed", ["rule_20261201_01"]), outcome("compute", 1, 40)]);
    expect(rows.map((r) => r.label)).toEqual(["429 always", "compute", "404"]);
    const table = comparisonTable(rows);
    expect(table).toMatch(/429 always\s+failed → failed\s+3 → 1\s+2300 → 60\s+rule_20261201_01/);
    expect(table).toMatch(/compute\s+- → success\s+- → 1/);
    expect(table).toMatch(/404\s+failed → -/);
    expect(table).toMatch(/all \(per round\)\s+4 → 2\s+2450 → 100/);
  });

  it("keeps the last run in the data folder, whole or not at all", async () => {
    const dir = await mkdtemp(join(tmpdir(), "abdemo-"));
    dirs.push(dir);
    expect(await readLastRun(dir)).toBeNull();
    await saveLastRun(dir, { finished_at: "2026-12-01T10:00:00.000Z", rounds: 3, outcomes: [outcome("compute", 1, 40)] });
    expect((await readLastRun(join(dir)))?.rounds).toBe(3);
    expect(JSON.parse(await readFile(lastRunFile(dir), "utf8")).outcomes).toHaveLength(1);
    await writeFile(lastRunFile(dir), "{ not json");
    expect(await readLastRun(dir)).toBeNull();
  });
});
