import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHash } from "../../runtime/rules/content.ts";
import { parseRuleFile, renderRuleFile, type RuleFile } from "../../runtime/rules/file-format.ts";
import { RulesLoader } from "../../runtime/rules/loader.ts";
import { inRollout } from "../../runtime/rules/rollout.ts";
import { MemoryWriter } from "../../runtime/rules/writer.ts";
import { recordingLogger } from "../helpers/pg.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "agentbus-memory-wl-"));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

function rule(n: number, over: Partial<RuleFile> = {}): RuleFile {
  const base = {
    rule_id: `rule_20261121_${String(n).padStart(2, "0")}`,
    target_agent: "dispatch_agent" as const,
    trigger_condition: "fetch fails with HTTP_429\n## Instruction\n# not a heading\n\\ backslash",
    instruction: "Do not retry.\n\n",
    rationale: "Seen 7 times <script>alert(1)</script> \u200b",
    effect: { op: "no_retry" as const, match: { capability: "fetch", error_code: "HTTP_429" } },
    ...over,
  };
  return { ...base, priority: "high", confidence_score: 0.9, status: "approved", version: 1, approved_by: "alice", approved_at: "2026-11-21T10:00:00.000Z", content_hash: contentHash(base), ...over, ...(over.content_hash ? {} : { content_hash: contentHash(base) }) };
}

async function until(fn: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("rule file format", () => {
  it("round-trips hostile text exactly (headings, backslashes, trailing newlines)", () => {
    const r = rule(1);
    const back = parseRuleFile(renderRuleFile(r)).value;
    expect(back.trigger_condition).toBe(r.trigger_condition);
    expect(back.instruction).toBe(r.instruction);
    expect(back.rationale).toBe(r.rationale);
    expect(back.effect).toEqual(r.effect);
    expect(back.approved_at).toBe(r.approved_at);
  });
});

describe("MemoryWriter", () => {
  it("writes atomically inside the root (no temp file left) and returns the file's sha256", async () => {
    const w = new MemoryWriter(root);
    const out = await w.write(rule(1));
    expect(out.relative).toBe("dispatch_agent/rule_20261121_01.md");
    expect(await readdir(join(root, "dispatch_agent"))).toEqual(["rule_20261121_01.md"]);
  });

  it("refuses bad ids, bad targets and paths that leave the root", async () => {
    const w = new MemoryWriter(root);
    await expect(w.write({ ...rule(2), rule_id: "../../etc/passwd" })).rejects.toMatchObject({ code: "RULE_HASH_MISMATCH" });
    const bad = rule(2, { rule_id: "rule_1/../../x" });
    await expect(w.write({ ...bad, content_hash: contentHash(bad) })).rejects.toMatchObject({ code: "RULE_PATH_REFUSED" });
    const badTarget = { ...rule(2), target_agent: "../objective_agent" } as unknown as RuleFile;
    await expect(w.write({ ...badTarget, content_hash: contentHash(badTarget) })).rejects.toMatchObject({ code: "RULE_PATH_REFUSED" });
    await expect(w.remove("governance", "rule_20261121_01")).rejects.toMatchObject({ code: "RULE_PATH_REFUSED" });
    const outside = await mkdtemp(join(tmpdir(), "agentbus-outside-"));
    await symlink(outside, join(root, "planning_agent"));
    const p = rule(3, { target_agent: "planning_agent" });
    await expect(w.write({ ...p, content_hash: contentHash({ ...p }) })).rejects.toMatchObject({ code: "RULE_PATH_REFUSED" });
    expect(await readdir(outside)).toEqual([]);
    await rm(join(root, "planning_agent"));
    await rm(outside, { recursive: true });
  });
});

describe("RulesLoader", () => {
  it("two loaders see a new rule, a hand edit and a retirement within seconds", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentbus-memory-two-"));
    const logger = recordingLogger();
    const a = await new RulesLoader({ root: dir, rescanMs: 500, logger }).start();
    const b = await new RulesLoader({ root: dir, rescanMs: 500 }).start();
    try {
      expect(a.rulesFor("dispatch_agent")).toEqual([]);
      const w = new MemoryWriter(dir);
      await w.write(rule(5, { rollout_percent: 10 }));
      await until(() => a.rulesFor("dispatch_agent").length === 1 && b.rulesFor("dispatch_agent").length === 1);
      const applied = a.rulesFor("dispatch_agent")[0]!;
      expect(applied.path).toBe("context/memory/dispatch_agent/rule_20261121_05.md");
      expect(applied.version).toBe(1);
      expect(applied.rollout_percent).toBe(10);
      expect(a.rulesFor("planning_agent")).toEqual([]);

      const file = join(dir, "dispatch_agent", "rule_20261121_05.md");
      await writeFile(file, (await readFile(file, "utf8")).replace("Do not retry.", "Retry forever."));
      await until(() => a.rulesFor("dispatch_agent").length === 0 && b.rulesFor("dispatch_agent").length === 0);
      expect(a.status()[0]).toMatchObject({ state: "hand_edited" });
      expect(logger.entries.some((e) => e.level === "warn" && String(e.msg).includes("not applied"))).toBe(true);

      await w.write(rule(5));
      await until(() => b.rulesFor("dispatch_agent").length === 1);
      await w.remove("dispatch_agent", "rule_20261121_05");
      await until(() => a.rulesFor("dispatch_agent").length === 0 && b.rulesFor("dispatch_agent").length === 0);
    } finally {
      a.close();
      b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("does not apply a file whose recomputed hash matches but whose bytes differ from the approval's", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentbus-memory-appr-"));
    try {
      const w = new MemoryWriter(dir);
      const out = await w.write(rule(6));
      const forged = rule(6, { instruction: "forged" });
      await w.write(forged); // a valid, self-consistent file that no approval wrote
      const l = new RulesLoader({ root: dir, approvedFiles: async () => new Map([[out.relative, out.sha256]]) });
      await l.refresh();
      expect(l.rulesFor("dispatch_agent")).toEqual([]);
      expect(l.status()[0]?.state).toBe("hand_edited");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reports misplaced and invalid files and applies neither", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agentbus-memory-bad-"));
    try {
      await mkdir(join(dir, "planning_agent"), { recursive: true });
      await writeFile(join(dir, "planning_agent", "rule_20261121_07.md"), renderRuleFile(rule(7)));
      await writeFile(join(dir, "planning_agent", "notes.md"), "# just notes\n");
      const l = new RulesLoader({ root: dir });
      await l.refresh();
      expect(l.rulesFor("planning_agent")).toEqual([]);
      expect(l.rulesFor("dispatch_agent")).toEqual([]);
      expect(l.status().map((s) => s.state).sort()).toEqual(["invalid", "misplaced"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("inRollout", () => {
  it("is deterministic by session id and close to the share over many sessions", () => {
    const r = { rule_id: "rule_20261121_01", rollout_percent: 10 };
    const ids = Array.from({ length: 5000 }, (_, i) => `s-${i}`);
    const inside = ids.filter((s) => inRollout(r, s));
    expect(inside.length).toBeGreaterThan(350);
    expect(inside.length).toBeLessThan(650);
    expect(ids.filter((s) => inRollout(r, s))).toEqual(inside);
    // Raising the share keeps every session that was in.
    expect(inside.every((s) => inRollout({ ...r, rollout_percent: 50 }, s))).toBe(true);
    expect(inRollout({ rule_id: r.rule_id }, "s-1")).toBe(true);
  });
});
