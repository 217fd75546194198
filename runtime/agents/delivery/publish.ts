/** The last step: the valid replies are recorded and sent on; the delivery was handled. */
import type { Gateway } from "../gateway.ts";
import type { DeliveryInterceptor } from "./types.ts";

export function publishReplies(gateway: Gateway): DeliveryInterceptor {
  return {
    name: "publish",
    async intercept(ctx) {
      await gateway.enqueue(ctx.valid, ctx.delays);
      return ctx.outcome;
    },
  };
}
