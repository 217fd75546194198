/**
 * The bus is transport only: one BullMQ queue per agent under a key prefix, consumers for them,
 * reply-id claims and the dead-letter queue. It neither validates nor records: that is the
 * gateway's job (runtime/agents/gateway.ts), and delivery is the agents' pipeline (runtime/agents/delivery/).
 */
import { Queue, Worker, type JobsOptions, type Processor } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { COMPLETE, type AgentSpec, type Envelope } from "../envelope/types.ts";
import { producerConnectionOptions, workerConnectionOptions } from "../infra/redis.ts";
import { DeadLetterQueue } from "./dead-letter.ts";
import { ReplyClaims } from "./sequence.ts";
import { jobOptionsFor, workerOptionsFor, type QueueTopology } from "./topology.ts";

export interface BusOptions {
  redisUrl: string;
  prefix: string;
  topology: QueueTopology;
  /** The spec of an agent by name (its job options override the topology's). */
  spec: (agent: string) => AgentSpec | undefined;
  logger: Logger;
}

/** A consumer of one queue, with the connection it alone uses (BullMQ workers block on theirs). */
export interface Consumer {
  worker: Worker;
  close(): Promise<void>;
}

export class Bus {
  readonly connection: Redis;
  readonly deadLetters: DeadLetterQueue;
  readonly claims: ReplyClaims;
  private readonly queues = new Map<string, Queue>();
  private readonly jobDefaults = new Map<string, JobsOptions>();

  constructor(private readonly options: BusOptions) {
    this.connection = new Redis({ ...producerConnectionOptions(options.redisUrl), connectionName: this.connectionName });
    this.connection.on("error", (err) => options.logger.warn({ err: err.message }, "redis connection error"));
    this.deadLetters = new DeadLetterQueue(options.topology.dead_letter_queue, this.connection, options.prefix);
    this.claims = new ReplyClaims(this.connection, options.prefix, options.topology.retention.claim_ttl_s);
  }

  get prefix(): string {
    return this.options.prefix;
  }

  /** Every connection of this bus is named so (CLIENT LIST shows whose it is): agentbus:<prefix>. */
  get connectionName(): string {
    return `agentbus:${this.options.prefix}`;
  }

  get topology(): QueueTopology {
    return this.options.topology;
  }

  /** Whether a message with this id is on its queue (waiting, running, or kept after it finished). */
  async isQueued(env: Envelope): Promise<boolean> {
    const target = queueOf(env);
    return target !== null && (await this.queue(target).getJobState(env.message_id)) !== "unknown";
  }

  /**
   * Send envelopes to their receivers' queues (COMPLETE has none: nothing is sent). The message id
   * is the job id, so a message published twice is delivered once while its job is retained.
   */
  async publish(envelopes: readonly Envelope[], delays?: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all(
      envelopes.map(async (env) => {
        const target = queueOf(env);
        if (target === null) return;
        const delay = delays?.get(env.message_id);
        const opts = this.jobOptions(target, env.message_id);
        await this.queue(target).add(env.output.content_type, env, delay ? { ...opts, delay } : opts);
      }),
    );
  }

  /**
   * Make room for re-sending a message whose job finished (it would be swallowed as a duplicate).
   * Returns false while the message is being processed right now.
   */
  async clearFinished(env: Envelope): Promise<boolean> {
    const target = queueOf(env);
    if (target === null) return true;
    const old = await this.queue(target).getJob(env.message_id);
    if (!old) return true;
    const state = await old.getState();
    if (state === "active") return false;
    if (state === "completed" || state === "failed") await old.remove();
    return true;
  }

  /** A worker for one agent's queue, not yet running (call `worker.run()`). */
  consume(agent: AgentSpec, processor: Processor, logger: Logger): Consumer {
    const connection = new Redis({ ...workerConnectionOptions(this.options.redisUrl), connectionName: this.connectionName });
    connection.on("error", (err) => logger.warn({ err: err.message }, "redis connection error"));
    const worker = new Worker(agent.name, processor, {
      connection,
      prefix: this.options.prefix,
      autorun: false,
      ...workerOptionsFor(this.options.topology, agent),
    });
    return {
      worker,
      close: async () => {
        await worker.close();
        await connection.quit().catch(() => undefined);
      },
    };
  }

  queue(agent: string): Queue {
    let q = this.queues.get(agent);
    if (!q) {
      q = new Queue(agent, { connection: this.connection, prefix: this.options.prefix });
      this.queues.set(agent, q);
    }
    return q;
  }

  jobOptions(agent: string, messageId: string): JobsOptions {
    let base = this.jobDefaults.get(agent);
    if (!base) {
      base = jobOptionsFor(this.options.topology, this.options.spec(agent));
      this.jobDefaults.set(agent, base);
    }
    // Object.assign, not a spread with a new key: the spread takes V8's slow path (every publish).
    return Object.assign({}, base, { jobId: messageId });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.deadLetters.close();
    await this.connection.quit().catch(() => undefined);
  }
}

export function queueOf(env: Envelope): string | null {
  return env.next_agent.name === COMPLETE ? null : env.next_agent.name;
}
