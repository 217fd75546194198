/**
 * Reply building: claims one message id and sequence number per reply (once per incoming message,
 * so a redelivery reuses them) and builds each reply into a full envelope, with the files the
 * runtime loaded for this agent listed as consulted. The construction itself (`replyEnvelope`) is
 * pure and shared with the local chain runner (runtime/agents/local-run.ts), so the two cannot drift.
 */
import type { Clock } from "../../envelope/clock.ts";
import { buildEnvelope, type BuildContext } from "../../envelope/build.ts";
import { messageId } from "../../envelope/ids.ts";
import type { Envelope } from "../../envelope/types.ts";
import type { ClaimedReply } from "../../bus/sequence.ts";
import type { Gateway } from "../gateway.ts";
import type { AgentReply, ApprovedRule } from "../handler.ts";
import type { LoadedAgent } from "../loader.ts";
import type { DeliveryInterceptor } from "./types.ts";

export function buildReplies(options: { gateway: Gateway; clock: Clock; timezone: string }): DeliveryInterceptor {
  const { gateway, clock, timezone } = options;
  return {
    name: "build-reply",
    async intercept(ctx, next) {
      const incoming = ctx.envelope;
      if (!incoming) throw new Error("reply building needs a validated envelope (receive-validation runs first)");
      const { agent, replies } = ctx;
      if (replies.length === 0) return ctx.outcome;
      const claimed = await gateway.claims.claim(
        agent.name,
        { message_id: incoming.message_id, session_id: incoming.metadata.session_id, sequence_number: incoming.metadata.sequence_number },
        candidateReplyIds(agent, replies.length, clock.now(), timezone),
      );
      for (const [i, reply] of replies.entries()) {
        const claim = claimed[i];
        if (!claim) throw new Error(`sequence claim returned ${claimed.length} ids for ${replies.length} replies`);
        ctx.built.push({ envelope: replyEnvelope({ agent, incoming, reply, claim, rules: ctx.rules }, { clock, timezone }), delay_ms: reply.delay_ms ?? 0 });
      }
      return next();
    },
  };
}

/** Fresh message ids for `count` replies of `agent` (the bus claims them; a local run uses them as they are). */
export function candidateReplyIds(agent: Pick<LoadedAgent, "abbr">, count: number, now: number, timezone: string): string[] {
  return Array.from({ length: count }, () => messageId(agent.abbr, now, timezone));
}

export interface ReplyParts {
  /** The agent that answered. */
  agent: LoadedAgent;
  /** The envelope it answered. */
  incoming: Envelope;
  reply: AgentReply;
  /** The reply's message id and sequence number. */
  claim: ClaimedReply;
  /** The approved rules the agent was given for this delivery (listed as consulted). */
  rules: readonly ApprovedRule[];
}

/** A handler's reply as the full envelope the bus sends: the one place a reply becomes an envelope. */
export function replyEnvelope(parts: ReplyParts, build: BuildContext): Envelope {
  const { agent, incoming, reply, claim } = parts;
  const consulted = [agent.specPath, ...agent.governance.map((g) => g.path), ...parts.rules.map((r) => r.path)];
  return buildEnvelope(
    {
      sender: { name: agent.name, type: agent.spec.type, abbr: agent.abbr },
      input: { source: incoming.agent.name, content: reply.input_content ?? incoming.output.content },
      output: { content_type: reply.content_type, content: reply.content },
      next_agent: { name: reply.next_agent, reason: reply.reason ?? `${agent.name} → ${reply.next_agent}` },
      metadata: {
        session_id: incoming.metadata.session_id,
        request_id: incoming.metadata.request_id,
        sequence_number: claim.sequence_number,
        parent_message_id: incoming.message_id,
      },
      // Plain members (undefined when absent), not conditional spreads: a spread inside a literal
      // sends V8 down its slow object-building path, on every reply.
      status: reply.status,
      error: reply.error,
      resources: reply.resources,
      audit: {
        compliance_notes: [
          `validated against envelope and content/${reply.content_type} schemas before sending`,
          `route ${agent.name} → ${reply.next_agent} checked against agent specs`,
          ...(reply.compliance_notes ?? []),
        ],
        governance_files_consulted: consulted,
        reasoning: reply.reasoning ?? "",
      },
      message_id: claim.message_id,
    },
    build,
  );
}
