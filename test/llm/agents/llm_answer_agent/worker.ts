import { defineHandler } from "../../../../runtime/agents/handler.ts";
import type { ContentTypeMap } from "../../../../runtime/envelope/types.ts";

/** Answers through ctx.llm when one is configured, deterministically otherwise. */
export const handler = defineHandler<"user_request">(async (input, ctx) => {
  const content: ContentTypeMap["synthesis"] = ctx.llm
    ? await ctx.llm.json<ContentTypeMap["synthesis"]>({ prompt: input.content.text, contentType: "synthesis" })
    : { answer: `no LLM: ${input.content.text}`, findings: [], contradictions: [], confidence: 0 };
  return {
    content_type: "synthesis",
    content: { ...content },
    next_agent: "COMPLETE",
    reason: "answered",
    reasoning: ctx.llm ? `written by ${ctx.llm.provider} ${ctx.llm.model}` : "deterministic",
  };
});
