/** Receive-validation: a delivery that fails validation or arrived on the wrong queue never reaches the handler. */
import type { Issue } from "../../errors/index.ts";
import type { Gateway } from "../gateway.ts";
import type { DeliveryInterceptor } from "./types.ts";

export function receiveValidation(gateway: Gateway): DeliveryInterceptor {
  return {
    name: "receive-validation",
    async intercept(ctx, next) {
      const checked = gateway.validate(ctx.raw);
      const issues: Issue[] = checked.ok ? [] : checked.issues;
      if (checked.ok && checked.envelope.next_agent.name !== ctx.agent.name) {
        issues.push({ pointer: "/next_agent/name", message: `is addressed to ${checked.envelope.next_agent.name} but arrived on ${ctx.agent.name}'s queue`, rule: "route" });
      }
      if (!checked.ok || issues.length > 0) {
        const id = await gateway.reject(ctx.raw, issues, "receive", ctx.agent.name);
        return { outcome: "dead_lettered", replies: [], completed: [], dead_letter_ids: [id] };
      }
      ctx.envelope = checked.envelope;
      gateway.emit("delivered", checked.envelope, ctx.agent.name);
      return next();
    },
  };
}
