/**
 * Hosts one agent as a BullMQ worker: validates each delivery, calls the handler with its context,
 * and builds, validates and routes whatever it returns. Handlers never see Redis.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { isAgentbusError, isDeferredError, type Issue } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import { buildEnvelope } from "../envelope/build.ts";
import { messageId } from "../envelope/ids.ts";
import { COMPLETE, type Envelope } from "../envelope/types.ts";
import type { AgentContext, AgentReply, ApprovedRule, HandlerResult } from "../agents/handler.ts";
import type { LoadedAgent } from "../agents/loader.ts";
import { createServices, type ServicesFactory } from "../agents/services.ts";
import { workerConnectionOptions } from "../infra/redis.ts";
import type { Bus } from "./bus.ts";
import { backoffDelay, DEFAULT_OUTAGE_BACKOFF, OutageMonitor, unavailableResource, type Backoff, type Resource } from "./outage.ts";
import { workerOptionsFor } from "./topology.ts";

/** What a processed job returns (kept by BullMQ as the job's return value). */
export interface DeliveryOutcome {
  outcome: "handled" | "dead_lettered";
  replies: Array<{ message_id: string; to: string }>;
  /** Replies addressed to COMPLETE: the session's final messages. */
  completed: Envelope[];
  dead_letter_ids: string[];
}

export interface AgentHostOptions {
  bus: Bus;
  agent: LoadedAgent;
  redisUrl: string;
  clock: Clock;
  timezone: string;
  logger: Logger;
  /** Approved rules that target this agent; read on every message so new approvals apply at once. */
  rules?: (agent: string) => readonly ApprovedRule[];
  /** State, records and LLM for handlers; without it they fail clearly when used. */
  services?: ServicesFactory;
  /**
   * Where outages of Postgres/Redis are reported and watched (one per runtime, shared by its hosts).
   * Without it the host keeps a private one that cannot probe, so it defers but never pauses.
   */
  outages?: OutageMonitor;
  /** Delays for deliveries deferred by an outage (default 250 ms doubling to 5 s). */
  outageBackoff?: Backoff;
}

const NO_SERVICES = createServices({});

export class AgentHost {
  readonly worker: Worker;
  private readonly log: Logger;
  private readonly connection: Redis;
  private readonly outages: OutageMonitor;
  /** Why the worker is paused (audit backpressure, an outage); it runs again when none is left. */
  private readonly holds = new Set<string>();
  /** Resources this host's deliveries found away, for which it paused or awaits recovery. */
  private readonly waitingFor = new Set<Resource>();
  private readonly onUp = (resource: Resource): void => {
    if (!this.waitingFor.delete(resource)) return;
    this.release(`outage:${resource}`);
  };

  constructor(private readonly options: AgentHostOptions) {
    const { bus, agent } = options;
    this.log = options.logger.child({ agent: agent.name });
    this.outages = options.outages ?? new OutageMonitor({ logger: this.log });
    this.outages.on("up", this.onUp);
    this.connection = new Redis(workerConnectionOptions(options.redisUrl));
    this.connection.on("error", (err) => this.log.warn({ err: err.message }, "redis connection error"));
    this.worker = new Worker(agent.name, (job: Job, token?: string) => this.process(job, token), {
      connection: this.connection,
      prefix: bus.prefix,
      autorun: false,
      ...workerOptionsFor(bus.options.topology, agent.spec),
    });
    this.worker.on("error", (err) => this.log.error({ err: err.message }, "worker error"));
  }

  start(): void {
    // run() resolves only when the worker closes; its failures surface through the "error" event.
    this.worker.run().catch((err: unknown) => this.log.error({ err }, "worker stopped unexpectedly"));
  }

  /**
   * Stop taking jobs for `reason` (they wait, durable, in Redis); jobs in progress finish. Reasons
   * are independent: the worker runs again only when every one has been released.
   */
  hold(reason: string): void {
    const first = this.holds.size === 0;
    this.holds.add(reason);
    if (first) this.worker.pause(true).catch((err: unknown) => this.log.error({ err: errorText(err) }, "could not pause the worker"));
  }

  release(reason: string): void {
    if (!this.holds.delete(reason) || this.holds.size > 0) return;
    this.worker.resume().catch((err: unknown) => this.log.error({ err: errorText(err) }, "could not resume the worker"));
  }

  /** Graceful: waits for jobs in progress, then lets go of the connection. */
  async close(): Promise<void> {
    this.outages.off("up", this.onUp);
    await this.worker.close();
    await this.connection.quit().catch(() => undefined);
  }

  async process(job: Job, token?: string): Promise<DeliveryOutcome> {
    const { bus, agent } = this.options;
    const raw: unknown = job.data;
    const checked = bus.validate(raw);
    const issues: Issue[] = checked.ok ? [] : checked.issues;
    if (checked.ok && checked.envelope.next_agent.name !== agent.name) {
      issues.push({ pointer: "/next_agent/name", message: `is addressed to ${checked.envelope.next_agent.name} but arrived on ${agent.name}'s queue`, rule: "route" });
    }
    if (!checked.ok || issues.length > 0) {
      const id = await bus.reject(raw, issues, "receive", agent.name);
      return { outcome: "dead_lettered", replies: [], completed: [], dead_letter_ids: [id] };
    }
    const env = checked.envelope;
    try {
      bus.emit("delivered", env, agent.name);
      const ctx = this.context(env, job);
      let result: HandlerResult;
      try {
        result = await agent.handler({ content_type: env.output.content_type, content: env.output.content, source: env.agent.name }, ctx);
      } catch (err) {
        if (isDeferredError(err)) return await this.defer(job, env, err.delayMs, err.message, token);
        if (unavailableResource(err) !== null) throw err; // handled below, like the runtime's own
        return await this.fail(job, env, err);
      }
      const outcome = await this.route(env, normalize(result), ctx);
      this.succeeded();
      return outcome;
    } catch (err) {
      // Postgres or Redis away (in the handler, the audit log or routing) is not the message's fault:
      // it waits, without using an attempt, however long the outage lasts. Redelivery is safe: state
      // writes are keyed by message id and reply ids are claimed once.
      const resource = unavailableResource(err);
      if (resource === null) throw err;
      return this.waitOut(job, env, resource, err, token);
    }
  }

  private async waitOut(job: Job, env: Envelope, resource: Resource, err: unknown, token?: string): Promise<never> {
    this.outages.report(resource, err);
    if (!this.waitingFor.has(resource)) {
      this.waitingFor.add(resource);
      // Pause only when someone will say it is back; otherwise keep trying, spaced by the backoff.
      if (this.outages.canProbe(resource)) this.hold(`outage:${resource}`);
    }
    // Deliveries of this message deferred before (attempts started beyond those used) grow the delay.
    const step = Math.max(0, job.attemptsStarted - 1 - job.attemptsMade);
    const delayMs = backoffDelay(this.options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF, step);
    this.log.debug({ message_id: env.message_id, delay_ms: delayMs, resource }, "deferred while infrastructure is away, no attempt used");
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError(`${resource} unavailable`);
  }

  /** A delivery went through: an outage this host saw and nobody probes for is over. */
  private succeeded(): void {
    for (const resource of this.waitingFor) {
      if (this.outages.canProbe(resource)) continue;
      this.waitingFor.delete(resource);
      this.outages.recovered(resource);
    }
  }

  private context(env: Envelope, job: Job): AgentContext {
    const { agent, clock } = this.options;
    const rules = this.options.rules?.(agent.name) ?? [];
    return {
      ...(this.options.services ?? NO_SERVICES).forMessage(agent, env, rules),
      spec: agent.spec,
      instructions: agent.instructions,
      governance: agent.governance,
      rules,
      logger: this.log.child({ session_id: env.metadata.session_id, message_id: env.message_id }),
      clock,
      message: env,
      attempt: Math.max(1, job.attemptsStarted),
      idempotencyKey: env.message_id,
    };
  }

  private async route(incoming: Envelope, replies: AgentReply[], ctx: AgentContext): Promise<DeliveryOutcome> {
    const { bus, agent, clock, timezone } = this.options;
    const outcome: DeliveryOutcome = { outcome: "handled", replies: [], completed: [], dead_letter_ids: [] };
    if (replies.length === 0) return outcome;
    const now = clock.now();
    const claimed = await bus.claims.claim(
      agent.name,
      { message_id: incoming.message_id, session_id: incoming.metadata.session_id, sequence_number: incoming.metadata.sequence_number },
      replies.map(() => messageId(agent.abbr, now, timezone)),
    );
    const consulted = [agent.specPath, ...agent.governance.map((g) => g.path), ...ctx.rules.map((r) => r.path)];
    const valid: Envelope[] = [];
    const delays = new Map<string, number>();
    for (const [i, reply] of replies.entries()) {
      const claim = claimed[i];
      if (!claim) throw new Error(`sequence claim returned ${claimed.length} ids for ${replies.length} replies`);
      const env = buildEnvelope(
        {
          sender: { name: agent.name, type: agent.spec.type, abbr: agent.abbr },
          input: { source: incoming.agent.name, content: incoming.output.content },
          output: { content_type: reply.content_type, content: reply.content },
          next_agent: { name: reply.next_agent, reason: reply.reason ?? `${agent.name} → ${reply.next_agent}` },
          metadata: {
            session_id: incoming.metadata.session_id,
            request_id: incoming.metadata.request_id,
            sequence_number: claim.sequence_number,
            parent_message_id: incoming.message_id,
          },
          ...(reply.status ? { status: reply.status } : {}),
          ...(reply.error ? { error: reply.error } : {}),
          ...(reply.resources ? { resources: reply.resources } : {}),
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
        { clock, timezone },
      );
      const checked = bus.validate(env);
      if (!checked.ok) {
        // A worker's bad reply is treated like any bad message, with the worker's name on it.
        outcome.dead_letter_ids.push(await bus.reject(env, checked.issues, "reply", agent.name));
        continue;
      }
      valid.push(checked.envelope);
      if (reply.delay_ms && reply.delay_ms > 0) delays.set(env.message_id, reply.delay_ms);
      outcome.replies.push({ message_id: env.message_id, to: env.next_agent.name });
      if (env.next_agent.name === COMPLETE) outcome.completed.push(env);
    }
    await bus.enqueue(valid, delays);
    return outcome;
  }

  /** Back to the queue after `delayMs`; BullMQ does not count a DelayedError as an attempt. */
  private async defer(job: Job, env: Envelope, delayMs: number, why: string, token?: string): Promise<never> {
    this.log.info({ message_id: env.message_id, delay_ms: delayMs }, `deferred, no attempt used: ${why}`);
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError(why);
  }

  /** Recoverable errors are rethrown for BullMQ to retry with backoff; the rest end here. */
  private async fail(job: Job, env: Envelope, err: unknown): Promise<never> {
    const { bus, agent } = this.options;
    const recoverable = isAgentbusError(err) ? err.recoverable : true;
    const code = isAgentbusError(err) ? err.code : "HANDLER_FAILED";
    const message = err instanceof Error ? err.message : String(err);
    const attempts = job.opts.attempts ?? 1;
    const lastAttempt = job.attemptsMade + 1 >= attempts;
    if (recoverable && !lastAttempt) {
      this.log.warn({ message_id: env.message_id, code, attempt: job.attemptsMade + 1, attempts }, `handler failed, will retry: ${message}`);
      throw err instanceof Error ? err : new Error(message);
    }
    const reason = recoverable ? `failed after ${attempts} attempts` : "failed with a non-recoverable error";
    await bus.reject(env, [], "handler", agent.name, { code, message: `${reason}: ${message}` });
    throw new UnrecoverableError(`${code}: ${message}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function normalize(result: HandlerResult): AgentReply[] {
  if (result === null || result === undefined) return [];
  return Array.isArray(result) ? result : [result];
}
