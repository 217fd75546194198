/**
 * The local chain runner: runs an envelope through the loaded agents in this process, without
 * Redis, the way the bus would deliver it. Each envelope is validated as the gateway validates it
 * (validateOnBus: guards, schemas, cross-field and route rules), the receiving agent's handler is
 * called with the context the worker host gives it (handlerContext), and each reply becomes an
 * envelope through the delivery pipeline's own construction (replyEnvelope), is validated again and
 * is delivered in turn, until every branch reaches COMPLETE.
 *
 * What differs from the bus, on purpose: message ids and sequence numbers are minted here (no
 * claims in Redis), nothing is recorded or dead-lettered, a reply's delay_ms is not waited for, and
 * a refused envelope or a failing handler stops the run with an error naming the agent and why
 * (there is no retry and no dead-letter queue to replay from).
 */
import type { Logger } from "pino";
import { AgentbusError, isAgentbusError, isDeferredError, summarize } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import { COMPLETE, type Envelope } from "../envelope/types.ts";
import { validateOnBus } from "../envelope/validate.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import type { TaskRetryPolicy } from "../bus/topology.ts";
import { unavailableResource } from "../bus/outage.ts";
import { callHooks } from "./delivery/hooks.ts";
import { handlerContext, normalize } from "./delivery/handler.ts";
import { candidateReplyIds, replyEnvelope } from "./delivery/reply.ts";
import type { ApprovedRule, HandlerResult } from "./handler.ts";
import type { AgentRegistry } from "./loader.ts";
import type { ServicesFactory } from "./services.ts";

export interface LocalRunOptions {
  agents: AgentRegistry;
  registry: SchemaRegistry;
  /** What handlers reach through their context (state, records, learning, LLM). */
  services: ServicesFactory;
  clock: Clock;
  timezone: string;
  /** The bus's envelope size limit (AGENTBUS_MAX_ENVELOPE_BYTES). */
  maxEnvelopeBytes: number;
  retryPolicy: TaskRetryPolicy;
  logger: Logger;
  /** Approved rules per agent (default none). */
  rules?: (agent: string) => readonly ApprovedRule[];
  /** Deliveries at most (default 32): a chain that keeps going is stopped with an error naming it. */
  maxHops?: number;
  /** Told of every envelope once it passed validation, in the order they were produced. */
  onEnvelope?: (envelope: Envelope) => void;
}

export const DEFAULT_MAX_HOPS = 32;
const NO_HOOKS = callHooks([]);

/**
 * Runs `first` (a session's first message, or any envelope the bus would accept) to COMPLETE.
 * Returns every envelope of the run in the order produced, `first` included; those addressed to
 * COMPLETE are the session's results.
 */
export async function runLocally(first: unknown, options: LocalRunOptions): Promise<Envelope[]> {
  const start = checked(first, options, () => "the first envelope");
  const produced: Envelope[] = [start];
  options.onEnvelope?.(start);
  const pending: Envelope[] = [start];
  // The session's sequence counter, as the bus's claim script keeps it: never below a parent's number.
  const sequence = new Map<string, number>();
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  let hops = 0;
  for (let env = pending.shift(); env !== undefined; env = pending.shift()) {
    const to = env.next_agent.name;
    if (to === COMPLETE) continue;
    if (++hops > maxHops) {
      throw new AgentbusError("LOCAL_RUN_FAILED", `the chain ran past ${maxHops} deliveries and still had a message for ${to} (${env.output.content_type} from ${env.agent.name}): stopped, it may loop`);
    }
    const agent = options.agents.get(to);
    // Validation checked the route; an agent missing here was unloaded in between.
    if (!agent) throw new AgentbusError("LOCAL_RUN_FAILED", `no loaded agent ${to} to deliver ${env.message_id} to`);
    const rules = options.rules?.(agent.name) ?? [];
    const context = handlerContext({
      agent,
      envelope: env,
      rules,
      logger: options.logger.child({ agent: agent.name }),
      attempt: 1,
      services: options.services,
      hooks: NO_HOOKS,
      clock: options.clock,
      registry: options.registry,
      retryPolicy: options.retryPolicy,
    });
    let result: HandlerResult;
    try {
      result = await agent.handler({ content_type: env.output.content_type, content: env.output.content, source: env.agent.name }, context);
    } catch (err) {
      throw handlerFailure(agent.name, env, err);
    }
    const replies = normalize(result);
    const session = env.metadata.session_id;
    const ids = candidateReplyIds(agent, replies.length, options.clock.now(), options.timezone);
    for (const [i, reply] of replies.entries()) {
      const seq = Math.max(sequence.get(session) ?? 0, env.metadata.sequence_number) + 1;
      sequence.set(session, seq);
      const built = replyEnvelope({ agent, incoming: env, reply, claim: { message_id: ids[i] ?? "", sequence_number: seq }, rules }, { clock: options.clock, timezone: options.timezone });
      const valid = checked(built, options, () => `${agent.name}'s reply (${reply.content_type} → ${reply.next_agent})`);
      produced.push(valid);
      options.onEnvelope?.(valid);
      pending.push(valid);
    }
  }
  return produced;
}

/** The envelope as the bus would accept it, or an error saying whose it is and every reason. */
function checked(value: unknown, options: LocalRunOptions, what: () => string): Envelope {
  const result = validateOnBus(value, { registry: options.registry, routes: options.agents, maxBytes: options.maxEnvelopeBytes });
  if (!result.ok) throw new AgentbusError("LOCAL_RUN_REFUSED", `${what()} is refused: ${summarize(result.issues, 5)}`, { issues: result.issues });
  return result.envelope;
}

function handlerFailure(agent: string, env: Envelope, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const on = `${env.output.content_type} ${env.message_id}`;
  if (isDeferredError(err)) return new AgentbusError("LOCAL_RUN_FAILED", `${agent} deferred ${on} (${message}); a local run does not wait and deliver it again`, { cause: err });
  // Postgres or Redis away keeps its own code (exit 3): it is not the chain's fault.
  if (unavailableResource(err) !== null && err instanceof Error) return err;
  const code = isAgentbusError(err) ? err.code : "HANDLER_FAILED";
  return new AgentbusError("LOCAL_RUN_FAILED", `${agent} failed on ${on}: ${code}: ${message}`, { cause: err, ...(isAgentbusError(err) ? { issues: err.issues } : {}) });
}
