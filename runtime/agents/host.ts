/**
 * Hosts one agent as a consumer of its queue: each delivery runs through the delivery pipeline
 * (runtime/agents/delivery/), and the host turns how it ended into what BullMQ needs. It also owns
 * the worker's lifecycle: holds (audit backpressure, outages) and their release. Handlers never see Redis.
 */
import { performance } from "node:perf_hooks";
import { DelayedError, UnrecoverableError, type Job, type Worker } from "bullmq";
import type { Logger } from "pino";
import type { Clock } from "../envelope/clock.ts";
import type { Envelope } from "../envelope/types.ts";
import { schemaRegistry, type SchemaRegistry } from "../schemas/registry.ts";
import type { Consumer } from "../bus/bus.ts";
import { backoffDelay, DEFAULT_OUTAGE_BACKOFF, OutageMonitor, type Backoff, type Resource } from "../bus/outage.ts";
import { taskRetryPolicy, type TaskRetryPolicy } from "../bus/topology.ts";
import type { Gateway } from "./gateway.ts";
import type { ApprovedRule } from "./handler.ts";
import type { LoadedAgent } from "./loader.ts";
import type { ServicesFactory } from "./services.ts";
import { deliveryPipeline, type Chain, type DeliveryContext, type DeliveryInterceptor, type DeliveryOutcome, type DeliveryResult } from "./delivery/index.ts";

export type { DeliveryOutcome };

export interface AgentHostOptions {
  gateway: Gateway;
  agent: LoadedAgent;
  clock: Clock;
  timezone: string;
  logger: Logger;
  /** The schema registry agents get as ctx.registry (default: the shared one). */
  registry?: SchemaRegistry;
  /** The task retry policy agents get as ctx.retryPolicy (default: the transport's topology). */
  retryPolicy?: TaskRetryPolicy;
  /** Approved rules that target this agent; read on every message so new approvals apply at once. */
  rules?: (agent: string) => readonly ApprovedRule[];
  /** State, records and LLM for handlers; without it they fail clearly when used. */
  services?: ServicesFactory;
  /** Around every delivery (first listed outermost) and around LLM and capability calls. */
  interceptors?: readonly DeliveryInterceptor[];
  /**
   * Where outages of Postgres/Redis are reported and watched (one per runtime, shared by its hosts).
   * Without it the host keeps a private one that cannot probe, so it defers but never pauses.
   */
  outages?: OutageMonitor;
  /** Delays for deliveries deferred by an outage (default 250 ms doubling to 5 s). */
  outageBackoff?: Backoff;
}

export class AgentHost {
  readonly worker: Worker;
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private readonly chain: Chain;
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
    const { gateway, agent } = options;
    this.log = options.logger.child({ agent: agent.name });
    this.outages = options.outages ?? new OutageMonitor({ logger: this.log });
    this.outages.on("up", this.onUp);
    this.chain = deliveryPipeline({
      gateway,
      clock: options.clock,
      timezone: options.timezone,
      registry: options.registry ?? schemaRegistry(),
      retryPolicy: options.retryPolicy ?? taskRetryPolicy(gateway.transport.topology),
      ...(options.rules ? { rules: options.rules } : {}),
      ...(options.services ? { services: options.services } : {}),
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    });
    this.consumer = gateway.transport.consume(agent.spec, (job: Job, token?: string) => this.process(job, token), this.log);
    this.worker = this.consumer.worker;
    this.worker.on("error", (err) => this.log.error({ err: err.message }, "worker error"));
  }

  /** The agent this host runs. */
  get agentName(): string {
    return this.options.agent.name;
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
    await this.consumer.close();
  }

  async process(job: Job, token?: string): Promise<DeliveryOutcome> {
    const ctx: DeliveryContext = {
      agent: this.options.agent,
      job,
      raw: job.data as unknown,
      startedAt: performance.now(),
      logger: this.log,
      rules: [],
      replies: [],
      built: [],
      valid: [],
      delays: new Map(),
      outcome: { outcome: "handled", replies: [], completed: [], dead_letter_ids: [] },
    };
    return this.settle(await this.chain(ctx), ctx, job, token);
  }

  /** What BullMQ needs for how the delivery ended: a return value, a delay, a retry or a final failure. */
  private async settle(result: DeliveryResult, ctx: DeliveryContext, job: Job, token?: string): Promise<DeliveryOutcome> {
    switch (result.outcome) {
      case "handled":
        this.succeeded();
        return result;
      case "dead_lettered":
        return result;
      case "deferred":
        this.log.info({ message_id: ctx.envelope?.message_id, delay_ms: result.delay_ms }, `deferred, no attempt used: ${result.reason}`);
        return this.delay(job, result.delay_ms, result.reason, token);
      case "waiting":
        return this.waitOut(job, ctx.envelope, result.resource, result.error, token);
      case "retry":
        throw result.error;
      case "failed":
        throw new UnrecoverableError(`${result.code}: ${result.message}`);
    }
  }

  private async waitOut(job: Job, env: Envelope | undefined, resource: Resource, err: unknown, token?: string): Promise<never> {
    this.outages.report(resource, err);
    if (!this.waitingFor.has(resource)) {
      this.waitingFor.add(resource);
      // Pause only when someone will say it is back; otherwise keep trying, spaced by the backoff.
      if (this.outages.canProbe(resource)) this.hold(`outage:${resource}`);
    }
    // Deliveries of this message deferred before (attempts started beyond those used) grow the delay.
    const step = Math.max(0, job.attemptsStarted - 1 - job.attemptsMade);
    const delayMs = backoffDelay(this.options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF, step);
    this.log.debug({ message_id: env?.message_id, delay_ms: delayMs, resource }, "deferred while infrastructure is away, no attempt used");
    return this.delay(job, delayMs, `${resource} unavailable`, token);
  }

  /** Back to the queue after `delayMs`; BullMQ does not count a DelayedError as an attempt. */
  private async delay(job: Job, delayMs: number, why: string, token?: string): Promise<never> {
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError(why);
  }

  /** A delivery went through: an outage this host saw and nobody probes for is over. */
  private succeeded(): void {
    for (const resource of this.waitingFor) {
      if (this.outages.canProbe(resource)) continue;
      this.waitingFor.delete(resource);
      this.outages.recovered(resource);
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
