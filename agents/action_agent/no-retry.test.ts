import { describe, expect, it } from "vitest";
import pino from "pino";
import type { AgentContext, ApprovedRule, ActionResult } from "../../runtime/agent-api.ts";
import { CapabilityError } from "../../runtime/capabilities/errors.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import { handler } from "./worker.ts";
import { catalogOf, declare } from "../_shared/testing/catalog.ts";

// A fetch that always fails the way a flaky host does: recoverable.
const flaky = { ...declare("fetch", { consumes: { url: "url" }, produces: { html: "html" } }), execute: () => Promise.reject(new CapabilityError("HTTP_503", "unavailable", { recoverable: true, domain: "b.example" })) };

const noRetry = (extra: Partial<ApprovedRule> = {}, match: Record<string, string> = { capability: "fetch", error_code: "HTTP_503", domain: "b.example" }): ApprovedRule => ({
  rule_id: "rule_20260101_21",
  target_agent: "action_agent",
  trigger_condition: "c",
  instruction: "Report status as failed but set recoverable to false so the Dispatch Agent marks the branch as skipped",
  path: "context/memory/rule_20260101_21.md",
  effect: { op: "no_retry", match },
  ...extra,
});

async function run(rules: ApprovedRule[]): Promise<{ result: ActionResult; notes: string[]; recoverable: boolean | undefined }> {
  const ctx = {
    rules,
    spec: { name: "action_agent" },
    message: { metadata: { session_id: "s-1" } },
    capabilities: catalogOf([flaky]),
    clock: systemClock,
    logger: pino({ level: "silent" }),
    llm: null,
    idempotencyKey: "m-1",
    registry: schemaRegistry(),
  // A fake context: only the fields the action handler reads are set.
  } as unknown as AgentContext;
  const out = await handler({ content_type: "task", content: { plan_id: "p", task_id: "t1", capability: "fetch", inputs: { url: "https://b.example/x" }, attempt: 1 }, source: "dispatch_agent" }, ctx);
  const reply = Array.isArray(out) ? out[0] : out;
  return { result: reply?.content as ActionResult, notes: reply?.compliance_notes ?? [], recoverable: reply?.error?.recoverable };
}

describe("a no_retry rule for the action agent", () => {
  it("reports a matching failure as failed and not recoverable, naming the rule", async () => {
    const { result, notes, recoverable } = await run([noRetry()]);
    expect(result.error).toMatchObject({ code: "HTTP_503", recoverable: false });
    expect(result.rules_applied).toEqual(["rule_20260101_21"]);
    expect(recoverable).toBe(false);
    expect(notes.join("\n")).toContain("rule rule_20260101_21");
  });

  it("leaves the failure recoverable without the rule, for another domain, another agent's rule, or outside its rollout", async () => {
    for (const rules of [[], [noRetry({}, { capability: "fetch", domain: "c.example" })], [noRetry({ target_agent: "dispatch_agent" })], [noRetry({ rollout_percent: 0.01 })]]) {
      const { result, notes } = await run(rules);
      expect(result.error).toMatchObject({ code: "HTTP_503", recoverable: true });
      expect(result.rules_applied).toBeUndefined();
      expect(notes.join("\n")).not.toContain("rule_20260101_21");
    }
  });
});
