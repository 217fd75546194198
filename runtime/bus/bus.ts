/**
 * The bus: validates and routes envelopes over BullMQ, one queue per agent. A message that fails
 * validation or routing never reaches a queue: it goes to the dead-letter queue with its reasons.
 */
import { Queue, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Issue } from "../errors/index.ts";
import { AgentbusError } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import { validateEnvelope, type RouteBook, type ValidationResult } from "../envelope/validate.ts";
import { COMPLETE, type Envelope } from "../envelope/types.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import { producerConnectionOptions } from "../infra/redis.ts";
import { DeadLetterQueue, type DeadLetter, type DeadLetterStage } from "./dead-letter.ts";
import { depthIssue } from "../envelope/guards.ts";
import { messageIdOf, type AdmissionGate, type BusEvent, type BusEventKind, type BusObserver } from "./events.ts";
import { ReplyClaims } from "./sequence.ts";
import { jobOptionsFor, type QueueTopology } from "./topology.ts";

export interface BusOptions {
  redisUrl: string;
  prefix: string;
  registry: SchemaRegistry;
  routes: RouteBook;
  topology: QueueTopology;
  clock: Clock;
  logger: Logger;
  maxEnvelopeBytes: number;
  observers?: BusObserver[];
  /** Consulted before each publish (new work from outside); e.g. the audit log's buffer bound. */
  gate?: AdmissionGate;
}

export type PublishResult =
  /** `duplicate`: a message with this id is already on its queue (waiting, running or kept after it finished); nothing was sent or recorded again. */
  | { accepted: true; message_id: string; queue: string | null; duplicate?: true }
  | { accepted: false; dead_letter_id: string; issues: Issue[] };

export type ReplayResult = { replayed: true; message_id: string; queue: string | null } | { replayed: false; issues: Issue[] };

/** Deeper than this, a refused value is not stored as it is (recording it would overflow the stack). */
export const STORABLE_DEPTH = 512;

export class Bus {
  readonly connection: Redis;
  readonly deadLetters: DeadLetterQueue;
  readonly claims: ReplyClaims;
  private readonly queues = new Map<string, Queue>();
  private readonly jobDefaults = new Map<string, JobsOptions>();
  private readonly observers: BusObserver[];

  constructor(readonly options: BusOptions) {
    this.connection = new Redis(producerConnectionOptions(options.redisUrl));
    this.connection.on("error", (err) => options.logger.warn({ err: err.message }, "redis connection error"));
    this.deadLetters = new DeadLetterQueue(options.topology.dead_letter_queue, this.connection, options.prefix);
    this.claims = new ReplyClaims(this.connection, options.prefix, options.topology.retention.claim_ttl_s);
    this.observers = [...(options.observers ?? [])];
  }

  get prefix(): string {
    return this.options.prefix;
  }

  addObserver(observer: BusObserver): void {
    this.observers.push(observer);
  }

  /** Full validation as the bus applies it: schema, content, cross-field and route rules. */
  validate(value: unknown): ValidationResult {
    const { registry, routes, maxEnvelopeBytes } = this.options;
    return validateEnvelope(value, { registry, routes, maxBytes: maxEnvelopeBytes, unknownAgents: "error" });
  }

  /** Validate, then enqueue for the receiving agent; refused messages are dead-lettered. */
  async publish(value: unknown, publisher: string | null = null): Promise<PublishResult> {
    this.options.gate?.admit();
    const result = this.validate(value);
    if (!result.ok) {
      const dead_letter_id = await this.reject(value, result.issues, "send", publisher);
      return { accepted: false, dead_letter_id, issues: result.issues };
    }
    const env = result.envelope;
    const target = queueOf(env);
    // BullMQ would silently drop a second job with this id (job id = message id); say so instead of
    // recording a second `published` event for a message that is not sent again. Two publishes of one
    // id racing each other can both pass this check; BullMQ still delivers the message once.
    if (target !== null && (await this.queue(target).getJobState(env.message_id)) !== "unknown") {
      this.options.logger.info({ message_id: env.message_id, queue: target }, "message already published; not sent again");
      return { accepted: true, message_id: env.message_id, queue: target, duplicate: true };
    }
    await this.enqueue([env]);
    return { accepted: true, message_id: env.message_id, queue: target };
  }

  /**
   * Enqueue envelopes that already passed validation. The message id is the job id, so a message
   * published twice is delivered once (for as long as its job is retained).
   */
  async enqueue(envelopes: Envelope[], delays?: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all(
      envelopes.map(async (env) => {
        const target = queueOf(env);
        if (target === null) {
          this.emit("completed", env, env.agent.name);
          return;
        }
        this.emit("published", env, env.agent.name);
        const delay = delays?.get(env.message_id);
        const opts = this.jobOptions(target, env.message_id);
        await this.queue(target).add(env.output.content_type, env, delay ? { ...opts, delay } : opts);
      }),
    );
  }

  /** Dead-letter a refused message and tell observers; returns the dead letter's id. */
  async reject(value: unknown, issues: Issue[], stage: DeadLetterStage, agent: string | null, error: DeadLetter["error"] = null): Promise<string> {
    // Recording recurses (canonical JSON, JSON.stringify): a value thousands of levels deep would
    // overflow the stack, so what is kept of it is a note saying so, with its id.
    if (depthIssue(value, STORABLE_DEPTH)) value = { not_stored: `nested deeper than ${STORABLE_DEPTH} levels; refused and kept as this note`, message_id: messageIdOf(value) };
    const next = (value as { next_agent?: { name?: unknown } } | null)?.next_agent?.name;
    const queue = typeof next === "string" && next !== COMPLETE ? next : null;
    if (issues.length > 0) this.emit("rejected", value, agent, issues);
    this.emit("dead_lettered", value, agent, issues, error);
    const id = await this.deadLetters.add({ stage, agent, queue, envelope: value, issues, error, at: this.options.clock.now() });
    this.options.logger.warn({ dead_letter: id, stage, agent, issues: issues.slice(0, 5), error }, "message dead-lettered");
    return id;
  }

  /**
   * Re-publish a dead letter, as it was or as fixed by the caller. It is validated again first;
   * while it still fails, the dead letter stays and the reasons are returned.
   */
  async replay(id: string, fixed?: unknown): Promise<ReplayResult> {
    const letter = await this.deadLetters.get(id);
    const envelope = fixed ?? letter.envelope;
    const result = this.validate(envelope);
    if (!result.ok) return { replayed: false, issues: result.issues };
    const env = result.envelope;
    const target = queueOf(env);
    if (target !== null) {
      // A finished job with the same id would swallow the replay as a duplicate: clear it first.
      const old = await this.queue(target).getJob(env.message_id);
      if (old) {
        const state = await old.getState();
        if (state === "active") throw new AgentbusError("REPLAY_CONFLICT", `message ${env.message_id} is being processed right now; replay later`);
        if (state === "completed" || state === "failed") await old.remove();
      }
    }
    await this.enqueue([env]);
    await this.deadLetters.remove(id);
    return { replayed: true, message_id: env.message_id, queue: target };
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
      base = jobOptionsFor(this.options.topology, this.options.routes.spec(agent));
      this.jobDefaults.set(agent, base);
    }
    return { ...base, jobId: messageId };
  }

  /** Tells observers before the bus acts; an observer's error propagates and stops the action. */
  emit(kind: BusEventKind, envelope: unknown, agent: string | null, issues: Issue[] = [], error: DeadLetter["error"] = null): void {
    if (this.observers.length === 0) return;
    const event: BusEvent = { kind, envelope, agent, issues, error, at: this.options.clock.now() };
    for (const o of this.observers) o.onEvent(event);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.deadLetters.close();
    await this.connection.quit().catch(() => undefined);
  }
}

function queueOf(env: Envelope): string | null {
  return env.next_agent.name === COMPLETE ? null : env.next_agent.name;
}
