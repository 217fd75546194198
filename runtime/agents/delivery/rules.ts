/** The rules step: the approved rules that target this agent, read on every delivery so new approvals apply at once. */
import type { ApprovedRule } from "../handler.ts";
import type { DeliveryInterceptor } from "./types.ts";

export function applyRules(rules: ((agent: string) => readonly ApprovedRule[]) | undefined): DeliveryInterceptor {
  return {
    name: "rules",
    intercept(ctx, next) {
      ctx.rules = rules?.(ctx.agent.name) ?? [];
      return next();
    },
  };
}
