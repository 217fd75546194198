/** Reply validation: a worker's bad reply is treated like any bad message, with the worker's name on it. */
import { COMPLETE } from "../../envelope/types.ts";
import type { Gateway } from "../gateway.ts";
import type { DeliveryInterceptor } from "./types.ts";

export function validateReplies(gateway: Gateway): DeliveryInterceptor {
  return {
    name: "reply-validation",
    async intercept(ctx, next) {
      for (const { envelope, delay_ms } of ctx.built) {
        const checked = gateway.validate(envelope);
        if (!checked.ok) {
          ctx.outcome.dead_letter_ids.push(await gateway.reject(envelope, checked.issues, "reply", ctx.agent.name));
          continue;
        }
        ctx.valid.push(checked.envelope);
        if (delay_ms > 0) ctx.delays.set(envelope.message_id, delay_ms);
        ctx.outcome.replies.push({ message_id: envelope.message_id, to: envelope.next_agent.name });
        if (envelope.next_agent.name === COMPLETE) ctx.outcome.completed.push(envelope);
      }
      return next();
    },
  };
}
