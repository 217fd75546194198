/**
 * The handler step: builds the agent's context, calls its handler, and says how a failure is
 * treated. A DeferredError puts the message back without an attempt; Postgres/Redis being away is
 * left to the outage step; recoverable errors are retried by BullMQ; the rest are dead-lettered.
 */
import type { Logger } from "pino";
import { isAgentbusError, isDeferredError } from "../../errors/index.ts";
import type { Clock } from "../../envelope/clock.ts";
import type { Envelope } from "../../envelope/types.ts";
import type { SchemaRegistry } from "../../schemas/registry.ts";
import { unavailableResource } from "../../bus/outage.ts";
import type { TaskRetryPolicy } from "../../bus/topology.ts";
import type { Gateway } from "../gateway.ts";
import type { AgentContext, AgentReply, ApprovedRule, HandlerResult } from "../handler.ts";
import type { LoadedAgent } from "../loader.ts";
import { createServices, type ServicesFactory } from "../services.ts";
import { hookCapabilities, hookLlm, type CallHooks } from "./hooks.ts";
import type { DeliveryContext, DeliveryInterceptor, DeliveryResult } from "./types.ts";

export interface HandlerStepOptions {
  gateway: Gateway;
  clock: Clock;
  registry: SchemaRegistry;
  retryPolicy: TaskRetryPolicy;
  services?: ServicesFactory;
  hooks: CallHooks;
}

const NO_SERVICES = createServices({});

export function callHandler(options: HandlerStepOptions): DeliveryInterceptor {
  return {
    name: "handler",
    async intercept(ctx, next) {
      const env = ctx.envelope;
      if (!env) throw new Error("the handler step needs a validated envelope (receive-validation runs first)");
      const context = agentContext(ctx, options);
      ctx.context = context;
      let result: HandlerResult;
      try {
        result = await ctx.agent.handler({ content_type: env.output.content_type, content: env.output.content, source: env.agent.name }, context);
      } catch (err) {
        if (isDeferredError(err)) return { outcome: "deferred", delay_ms: err.delayMs, reason: err.message };
        if (unavailableResource(err) !== null) throw err; // the outage step's, like the runtime's own
        return fail(ctx, err, options.gateway);
      }
      ctx.replies = normalize(result);
      return next();
    },
  };
}

function agentContext(ctx: DeliveryContext, options: HandlerStepOptions): AgentContext {
  const env = ctx.envelope as NonNullable<DeliveryContext["envelope"]>;
  return handlerContext({
    agent: ctx.agent,
    envelope: env,
    rules: ctx.rules,
    logger: ctx.logger,
    attempt: Math.max(1, ctx.job.attemptsStarted),
    services: options.services ?? NO_SERVICES,
    hooks: options.hooks,
    clock: options.clock,
    registry: options.registry,
    retryPolicy: options.retryPolicy,
  });
}

export interface HandlerContextParts {
  agent: LoadedAgent;
  /** The validated envelope the handler is given. */
  envelope: Envelope;
  rules: readonly ApprovedRule[];
  logger: Logger;
  /** 1 on first delivery. */
  attempt: number;
  services: ServicesFactory;
  hooks: CallHooks;
  clock: Clock;
  registry: SchemaRegistry;
  retryPolicy: TaskRetryPolicy;
}

/**
 * The context a handler is called with: the one place it is put together, for the worker host's
 * deliveries and for the local chain runner (runtime/agents/local-run.ts) alike.
 */
export function handlerContext(parts: HandlerContextParts): AgentContext {
  const { agent, envelope: env } = parts;
  const services = parts.services.forMessage(agent, env, parts.rules);
  // Every member written out, no `...services`: V8 builds a spread followed by many new keys very
  // slowly (about 8 µs on this path, measured), and this runs on every delivery.
  return {
    state: services.state,
    records: services.records,
    learning: services.learning,
    settings: services.settings,
    llm: hookLlm(services.llm, parts.hooks, agent.name, env),
    capabilities: hookCapabilities(services.capabilities, parts.hooks, agent.name, env),
    spec: agent.spec,
    instructions: agent.instructions,
    governance: agent.governance,
    rules: parts.rules,
    logger: parts.logger.child({ session_id: env.metadata.session_id, message_id: env.message_id }),
    clock: parts.clock,
    registry: parts.registry,
    retryPolicy: parts.retryPolicy,
    message: env,
    attempt: parts.attempt,
    idempotencyKey: env.message_id,
  };
}

/** Recoverable errors go back to BullMQ to retry with backoff while attempts last; the rest end here. */
async function fail(ctx: DeliveryContext, err: unknown, gateway: Gateway): Promise<DeliveryResult> {
  const { job, agent } = ctx;
  const env = ctx.envelope;
  const recoverable = isAgentbusError(err) ? err.recoverable : true;
  const code = isAgentbusError(err) ? err.code : "HANDLER_FAILED";
  const message = err instanceof Error ? err.message : String(err);
  const attempts = job.opts.attempts ?? 1;
  const lastAttempt = job.attemptsMade + 1 >= attempts;
  if (recoverable && !lastAttempt) {
    ctx.logger.warn({ message_id: env?.message_id, code, attempt: job.attemptsMade + 1, attempts }, `handler failed, will retry: ${message}`);
    return { outcome: "retry", code, error: err instanceof Error ? err : new Error(message) };
  }
  const reason = recoverable ? `failed after ${attempts} attempts` : "failed with a non-recoverable error";
  const dead_letter_id = await gateway.reject(env, [], "handler", agent.name, { code, message: `${reason}: ${message}` });
  return { outcome: "failed", code, message, dead_letter_id };
}

/** What a handler returned, as a list of replies. */
export function normalize(result: HandlerResult): AgentReply[] {
  if (result === null || result === undefined) return [];
  return Array.isArray(result) ? result : [result];
}
