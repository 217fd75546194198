/** The handlers of the bench agents: stamp the start, pass the request on (or finish the chain). */
import { defineHandler, type AgentHandler } from "../runtime/agents/handler.ts";
import { stamp } from "./probe.ts";

/** Hop `hop` of the chain: forwards the user_request unchanged to `next`. */
export function forwardHandler(hop: number, next: string): AgentHandler {
  return defineHandler<"user_request">((input, ctx) => {
    stamp(ctx.message.metadata.session_id, hop);
    return Promise.resolve({ content_type: "user_request", content: input.content, next_agent: next, reason: `hop ${hop} → ${next}` });
  });
}

/** The last hop: answers with a synthesis addressed to COMPLETE. */
export function finishHandler(hop: number): AgentHandler {
  return defineHandler<"user_request">((input, ctx) => {
    stamp(ctx.message.metadata.session_id, hop);
    return Promise.resolve({
      content_type: "synthesis",
      content: { answer: `done: ${input.content.text}`, findings: [], contradictions: [], confidence: 1 },
      next_agent: "COMPLETE",
      reason: "chain finished",
    });
  });
}

/** The add → process sink: accepts everything, sends nothing. */
export const sinkHandler: AgentHandler = defineHandler<"user_request">(() => Promise.resolve(null));
