/**
 * The approved rules an agent applies to a message: those targeted at it (the runtime hands an agent
 * its own, but a rule file naming another agent must still not change this one) and, for a gradual
 * rollout, only in the sessions of its share.
 */
import { inRollout, type AgentContext, type ApprovedRule } from "../../runtime/agent-api.ts";

export function rulesInForce(ctx: Pick<AgentContext, "rules" | "spec" | "message">): ApprovedRule[] {
  const session = ctx.message.metadata.session_id;
  return ctx.rules.filter((r) => r.target_agent === ctx.spec.name && inRollout(r, session));
}
