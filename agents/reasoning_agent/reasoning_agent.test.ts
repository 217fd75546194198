import { describe, expect, it } from "vitest";
import { AgentbusError } from "../../runtime/errors/index.ts";
import type { LlmClient } from "../../runtime/llm/types.ts";
import type { AgentReply, JsonObject, Synthesis } from "../../runtime/agent-api.ts";
import { asReplies, delivered, fakeContext } from "../_shared/testing/fake-context.ts";
import { failed, fetched, extracted, report, skipped, twoPagesDisagreeing } from "../_shared/testing/reports.ts";
import type { DispatchReport } from "../_shared/report.ts";
import { handler } from "./worker.ts";

function run(content: DispatchReport, llm: LlmClient | null = null, stateStore = new Map<string, unknown>()) {
  const message = delivered("dispatch_agent", "reasoning_agent", "dispatch_report", content);
  const ctx = fakeContext({ message, llm, stateStore });
  return handler({ content_type: "dispatch_report", content: content as DispatchReport & JsonObject, source: "dispatch_agent" }, ctx).then(asReplies);
}

/** The reply's content as a synthesis (every reply of the reasoning agent carries one). */
const synthesisOf = (reply: AgentReply | undefined): Synthesis => reply?.content as Synthesis;

/** An LLM that answers every json() call with `reply` (or throws it) and counts the calls. */
function fakeLlm(reply: unknown): LlmClient & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    provider: "openai_compatible",
    model: "test-model",
    prompts,
    text: () => Promise.reject(new Error("text() is not used")),
    json: <T>(request: { prompt: string; contentType: string }) => {
      prompts.push(request.prompt);
      if (request.contentType !== "synthesis") return Promise.reject(new Error(`asked for ${request.contentType}`));
      return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply as T);
    },
  };
}

describe("reasoning_agent", () => {
  it("sends the same synthesis twice: to COMPLETE as the answer and to memory_agent", async () => {
    const replies = await run(report([fetched("t1", "a.example"), extracted("t2", "t1", "Lyon", "Lyon is a city.")]));
    expect(replies.map((r) => [r.next_agent, r.content_type, r.status?.code])).toEqual([
      ["COMPLETE", "synthesis", "success"],
      ["memory_agent", "synthesis", "success"],
    ]);
    expect(replies[0]?.content).toEqual(replies[1]?.content);
    expect(synthesisOf(replies[0]).answer).toContain('Page "Lyon" [t2]');
    expect(replies[0]?.error).toBeUndefined();
  });

  it("sends a partial status when some tasks failed, and a failed one with ALL_TASKS_FAILED when none succeeded", async () => {
    const partial = await run(report([fetched("t1", "a.example"), failed("t2", "fetch", "HTTP_404")]));
    expect(partial[0]?.status).toEqual({ code: "partial", message: "1 of 2 tasks succeeded" });
    expect(partial[0]?.error).toBeUndefined();

    const none = await run(report([failed("t1", "fetch", "HTTP_404", { domain: "x.example" }), skipped("t2", "extract_text", ["t1"])]));
    expect(none.map((r) => r.status?.code)).toEqual(["failed", "failed"]);
    expect(none[0]?.error).toEqual({ code: "ALL_TASKS_FAILED", message: "no task succeeded: 1 failed (t1 HTTP_404 (x.example)), 1 skipped", recoverable: false });
    expect(synthesisOf(none[0]).confidence).toBe(0);
  });

  describe("with an LLM", () => {
    const written = { answer: "Two pages disagree on how many people live in Lyon.", findings: [], contradictions: [], confidence: 0.8 };

    it("lets the model write the answer from the results, keeping the deterministic contradictions", async () => {
      const llm = fakeLlm(written);
      const replies = await run(twoPagesDisagreeing(), llm);
      expect(llm.prompts).toHaveLength(1);
      expect(llm.prompts[0]).toContain("The population of Lyon is 513,275.");
      const content = replies[0]?.content as { answer: string; contradictions: unknown[]; confidence: number };
      expect(content.answer).toBe("Two pages disagree on how many people live in Lyon.\n\nThe results disagree:\n- population of lyon: 513275 (t2) vs 522228 (t4)");
      expect(content.contradictions).toEqual([{ subject: "population of lyon", values: [{ value: 513275, task_id: "t2" }, { value: 522228, task_id: "t4" }] }]);
      expect(content.confidence).toBe(0.68);
      expect(replies[0]?.compliance_notes).toEqual(["answer text written by openai_compatible/test-model from the task results only"]);
    });

    it("asks the model once per message: a redelivery reuses the stored answer", async () => {
      const llm = fakeLlm(written);
      const state = new Map<string, unknown>();
      const content = twoPagesDisagreeing();
      const message = delivered("dispatch_agent", "reasoning_agent", "dispatch_report", content);
      const input = { content_type: "dispatch_report", content: content as DispatchReport & JsonObject, source: "dispatch_agent" };
      const first = asReplies(await handler(input, fakeContext({ message, llm, stateStore: state })));
      const second = asReplies(await handler(input, fakeContext({ message, llm, stateStore: state })));
      expect(llm.prompts).toHaveLength(1);
      expect(second).toEqual(first);
    });

    it("falls back to the deterministic answer when the model's output stays invalid, and says so", async () => {
      const llm = fakeLlm(new AgentbusError("LLM_OUTPUT_INVALID", "still invalid after one repair"));
      const replies = await run(twoPagesDisagreeing(), llm);
      expect(synthesisOf(replies[0]).answer).toContain("All 5 tasks succeeded.");
      expect(replies[0]?.compliance_notes).toEqual(["LLM_OUTPUT_INVALID from openai_compatible/test-model: the deterministic answer was sent instead"]);
    });

    it("lets a spent budget or an unavailable provider fail the message (the bus retries what is recoverable)", async () => {
      await expect(run(twoPagesDisagreeing(), fakeLlm(new AgentbusError("BUDGET_EXCEEDED", "session used 200000 tokens")))).rejects.toMatchObject({ code: "BUDGET_EXCEEDED" });
      await expect(run(twoPagesDisagreeing(), fakeLlm(new AgentbusError("LLM_UNAVAILABLE", "503", { recoverable: true })))).rejects.toMatchObject({ code: "LLM_UNAVAILABLE", recoverable: true });
    });
  });
});
