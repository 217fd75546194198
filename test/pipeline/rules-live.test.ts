/**
 * Rules through the real agents in a running process, on real Redis and Postgres: decisions are made
 * with ReviewService (whose MemoryWriter writes context/memory files), and the rules component's
 * loader, watching that folder, is the only way a rule reaches the agents. Against the demo site's
 * always-429 page (dispatch retries it 3 times without a rule):
 * - a pending and a rejected rule never change behaviour, even with a forged file in the folder;
 * - an approved no_retry rule makes the next session spend 1 attempt and names the rule in its
 *   workflow record's rules_applied;
 * - retired, the next session retries again within seconds (measured and printed);
 * - a hand-edited approved file is reported by the loader and the session behaves as with no rule.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHash } from "../../runtime/rules/content.ts";
import { MemoryWriter } from "../../runtime/rules/writer.ts";
import { submitReport, type ProposedRule } from "../../runtime/store/proposals.ts";
import { ALICE } from "../review/helpers.ts";
import { openLivePipeline, type LivePipeline } from "../helpers/live-rules.ts";

let p: LivePipeline;
let domain: string;
const APPROVED = "rule_20261121_01";
const PENDING = "rule_20261121_02";
const REJECTED = "rule_20261121_03";
const measured: Record<string, number> = {};

function proposal(n: number, key: string): ProposedRule {
  return {
    rule_id: `rule_20261121_${String(n).padStart(2, "0")}`,
    priority: "high",
    target_agent: "dispatch_agent",
    trigger_condition: `When fetch on ${domain} fails with HTTP_429`,
    instruction: "Do not retry HTTP_429 failures of fetch on this host: retries of them have never succeeded.",
    rationale: "Observed 3 task(s) where fetch failed with HTTP_429 after 3 attempts each.",
    confidence_score: 0.8,
    pattern_key: key,
    effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain } },
    evidence: { occurrences: 3, session_ids: [] },
  };
}

beforeAll(async () => {
  p = await openLivePipeline("ruleslive");
  domain = new URL(p.site.limited).hostname;
  // Three proposals with the same effect (distinct patterns): only the approved one may ever apply.
  await submitReport(p.db, { report: { batch_id: "batch_20261121_001", patterns_identified: 3, new_rules_proposed: [proposal(1, "live:approved"), proposal(2, "live:pending"), proposal(3, "live:rejected")] }, day: "20261121" });
  await p.review.reject(ALICE, REJECTED, { reason: "not this one" });
}, 60_000);
afterAll(async () => {
  await p?.close();
  if (Object.keys(measured).length > 0) console.log(`rules-live measured: ${JSON.stringify(measured)}`);
});

/** One session on the always-429 page: its fetch task and the rules its record lists. */
async function busySession(): Promise<{ attempts: number; status: string; rules: string[] }> {
  const { record } = await p.run(`Summarize ${p.site.limited}/pages/always-busy.html`, 60_000);
  const fetch = record!.tasks.find((t) => t.capability === "fetch" && t.domain === domain)!;
  return { attempts: fetch.attempts, status: fetch.status, rules: [...(record!.rules_applied ?? [])] };
}

const NO_RULE = { attempts: 3, status: "failed", rules: [] };
const dispatchIds = (): string[] => p.loader.rulesFor("dispatch_agent").map((r) => r.rule_id);

describe("rules through real agents in a running process", () => {
  it("a pending and a rejected rule change nothing, even when a self-consistent file for each is put in the folder by hand", async () => {
    // Files no approval wrote: valid, hash-consistent, in the right place.
    const forger = new MemoryWriter(p.memory);
    for (const [id, n] of [[PENDING, 2], [REJECTED, 3]] as const) {
      const c = proposal(n, "x");
      const content = { rule_id: id, target_agent: c.target_agent, trigger_condition: c.trigger_condition, instruction: c.instruction, rationale: c.rationale, effect: c.effect! };
      await forger.write({ ...content, target_agent: "dispatch_agent", priority: "high", confidence_score: 0.8, status: "approved", version: 1, approved_by: "mallory", approved_at: new Date().toISOString(), content_hash: contentHash(content) });
    }
    const start = Date.now();
    while (p.loader.status().filter((s) => s.state === "unapproved").length < 2) {
      if (Date.now() - start > 10_000) throw new Error(`forged files not reported: ${JSON.stringify(p.loader.status())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(p.loader.status().map((s) => [s.rule_id, s.state]).sort()).toEqual([[PENDING, "unapproved"], [REJECTED, "unapproved"]]);
    expect(p.loaderLog.entries.filter((e) => e.level === "warn" && String(e.msg).includes("no approval in the review log wrote this file"))).toHaveLength(2);
    expect(dispatchIds()).toEqual([]);
    expect(await busySession()).toEqual(NO_RULE);
    expect((await p.review.get(PENDING)).state).toBe("pending");
    expect((await p.review.get(REJECTED)).state).toBe("rejected");
  });

  it("an approved no_retry rule: the next session spends 1 attempt and its record names the rule", async () => {
    const t0 = Date.now();
    await p.review.approve(ALICE, APPROVED, { content_hash: (await p.review.get(APPROVED)).reviewable_hash });
    await p.untilRules("dispatch_agent", (rs) => rs.some((r) => r.rule_id === APPROVED));
    measured.approve_to_loaded_ms = Date.now() - t0;
    expect(dispatchIds()).toEqual([APPROVED]);
    expect(await busySession()).toEqual({ attempts: 1, status: "failed", rules: [APPROVED] });
  });

  it("retired: a new session retries again within seconds", async () => {
    await p.review.retire(ALICE, APPROVED, { reason: "measuring retirement" });
    const retired = Date.now();
    await p.untilRules("dispatch_agent", (rs) => rs.length === 0);
    measured.retire_to_unloaded_ms = Date.now() - retired;
    // Sessions one after another from the moment of retirement until one retries.
    let first: { submittedAfterMs: number; retriedAfterMs: number } | undefined;
    for (let i = 0; i < 10 && !first; i++) {
      const submitted = Date.now() - retired;
      const s = await busySession();
      if (s.attempts > 1) {
        expect(s).toEqual(NO_RULE);
        first = { submittedAfterMs: submitted, retriedAfterMs: Date.now() - retired };
      }
    }
    expect(first).toBeDefined();
    measured.retire_to_retrying_session_submitted_ms = first!.submittedAfterMs;
    measured.retire_to_retrying_session_done_ms = first!.retriedAfterMs;
    // The session that retried started within 5 s of the retirement.
    expect(first!.submittedAfterMs).toBeLessThan(5000);
  });

  it("a hand-edited approved file is reported by the loader and not applied: the session behaves as with no rule", async () => {
    // Back in force first (rollback to version 1 writes the file again), and applied.
    await p.review.rollback(ALICE, APPROVED, { to_version: 1, reason: "back for the hand-edit check" });
    await p.untilRules("dispatch_agent", (rs) => rs.some((r) => r.rule_id === APPROVED));
    expect((await busySession()).attempts).toBe(1);

    const file = join(p.memory, "dispatch_agent", `${APPROVED}.md`);
    const text = await readFile(file, "utf8");
    expect(text).toContain("Do not retry HTTP_429");
    const t0 = Date.now();
    await writeFile(file, text.replace("Do not retry HTTP_429", "Never retry HTTP_429"));
    await p.untilRules("dispatch_agent", (rs) => rs.length === 0);
    measured.hand_edit_to_unloaded_ms = Date.now() - t0;
    const status = p.loader.status().find((s) => s.rule_id === APPROVED);
    expect(status).toMatchObject({ state: "hand_edited", path: `context/memory/dispatch_agent/${APPROVED}.md` });
    expect(p.loaderLog.entries.some((e) => e.level === "warn" && String(e.msg).includes(`${APPROVED}.md is not applied`) && String(e.msg).includes("content hash"))).toBe(true);
    expect(await busySession()).toEqual(NO_RULE);
  });
});
