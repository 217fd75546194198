/**
 * Approved rules in whole sessions on real Redis and Postgres: every agent is handed every rule (as a
 * misfiled rule would reach it), and only the rules targeted at it and in their rollout share apply.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovedRule } from "../../runtime/agents/handler.ts";
import { inRollout } from "../../runtime/agent-api.ts";
import { openPipeline, type Pipeline } from "../helpers/pipeline.ts";

const rule = (rule_id: string, target_agent: string, effect: ApprovedRule["effect"], extra: Partial<ApprovedRule> = {}): ApprovedRule => ({
  rule_id,
  target_agent,
  trigger_condition: "test",
  instruction: "test",
  path: `context/memory/${rule_id}.md`,
  effect,
  ...extra,
});

let rules: ApprovedRule[] = [];
let p: Pipeline;
beforeAll(async () => {
  p = await openPipeline("rulesapplied", { rules: () => rules });
});
afterAll(async () => {
  await p?.close();
});

describe("approved rules in a session", () => {
  const busyUrl = (): string => `${p.site.limited}/pages/always-busy.html`;
  const noRetry = (rule_id: string, target: string, extra: Partial<ApprovedRule> = {}): ApprovedRule =>
    rule(rule_id, target, { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: new URL(p.site.limited).hostname } }, extra);

  it("a no_retry rule targeted at another agent, or outside its rollout share, leaves the 429 host retried", async () => {
    const outside = noRetry("rule_20260101_30", "dispatch_agent", { rollout_percent: 0.01 });
    rules = [noRetry("rule_20260101_29", "planning_agent"), outside];
    const { view, record } = await p.run(`Summarize ${busyUrl()}`, 60_000);
    const fetch = record!.tasks.find((t) => t.capability === "fetch")!;
    // The share is decided by session id: the rule applies exactly when the session falls in it.
    const applies = inRollout(outside, view.session_id);
    expect(fetch.attempts === 1).toBe(applies);
    expect(record!.rules_applied).toEqual(applies ? ["rule_20260101_30"] : []);
  });

  it("applies the planner's prefer_order and the dispatcher's no_retry and records both", async () => {
    rules = [
      rule("rule_20260101_31", "planning_agent", { op: "prefer_order", order: ["fetch", "extract_text", "summarize"] }),
      noRetry("rule_20260101_32", "dispatch_agent"),
    ];
    const { record } = await p.run(`Summarize ${p.site.main}/pages/solar.html and ${busyUrl()}`, 60_000);
    // prefer_order: both fetches first, then both extractions, then the summaries.
    expect(record!.plan.map((t) => t.capability)).toEqual(["fetch", "fetch", "extract_text", "extract_text", "summarize", "summarize"]);
    // no_retry: the busy host's fetch ran once and failed; its branch was skipped.
    const busy = record!.tasks.find((t) => t.capability === "fetch" && t.domain === new URL(p.site.limited).hostname)!;
    expect(busy).toMatchObject({ status: "failed", attempts: 1 });
    expect(record!.tasks.filter((t) => t.status === "skipped")).toHaveLength(2);
    expect([...record!.rules_applied!].sort()).toEqual(["rule_20260101_31", "rule_20260101_32"]);
  });

  it("an action agent no_retry rule makes the failure final and reaches the workflow record", async () => {
    rules = [noRetry("rule_20260101_35", "action_agent")];
    const { record } = await p.run(`Summarize ${busyUrl()}`, 60_000);
    expect(record!.tasks.find((t) => t.capability === "fetch")).toMatchObject({ status: "failed", attempts: 1, recoverable: false });
    expect(record!.rules_applied).toEqual(["rule_20260101_35"]);
  });
});
