/**
 * The gateway to the bus: every message that enters or moves on it passes here. It validates
 * (schema, content, cross-field and route rules), tells observers (the audit log) before acting,
 * dead-letters what is refused and replays dead letters; the transport underneath only moves them.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { AgentbusError, type Issue } from "../errors/index.ts";
import type { Clock } from "../envelope/clock.ts";
import { validateOnBus, type RouteBook, type ValidationResult } from "../envelope/validate.ts";
import { COMPLETE, type Envelope } from "../envelope/types.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import { queueOf, type Bus } from "../bus/bus.ts";
import type { DeadLetter, DeadLetterQueue, DeadLetterStage } from "../bus/dead-letter.ts";
import { messageIdOf, type AdmissionGate, type BusEvent, type BusEventKind, type BusObserver } from "../bus/events.ts";
import { depthIssue } from "../envelope/guards.ts";
import type { ReplyClaims } from "../bus/sequence.ts";

export interface GatewayOptions {
  transport: Bus;
  registry: SchemaRegistry;
  routes: RouteBook;
  clock: Clock;
  logger: Logger;
  maxEnvelopeBytes: number;
  observers?: BusObserver[];
}

export type PublishResult =
  /** `duplicate`: a message with this id is already on its queue (waiting, running or kept after it finished); nothing was sent or recorded again. */
  | { accepted: true; message_id: string; queue: string | null; duplicate?: true }
  | { accepted: false; dead_letter_id: string; issues: Issue[] };

export type ReplayResult = { replayed: true; message_id: string; queue: string | null } | { replayed: false; issues: Issue[] };

/** Deeper than this, a refused value is not stored as it is (recording it would overflow the stack). */
export const STORABLE_DEPTH = 512;

export class Gateway {
  readonly transport: Bus;
  private readonly observers: BusObserver[];
  private readonly gates: AdmissionGate[] = [];

  constructor(private readonly options: GatewayOptions) {
    this.transport = options.transport;
    this.observers = [...(options.observers ?? [])];
  }

  get prefix(): string {
    return this.transport.prefix;
  }
  get connection(): Redis {
    return this.transport.connection;
  }
  get deadLetters(): DeadLetterQueue {
    return this.transport.deadLetters;
  }
  get claims(): ReplyClaims {
    return this.transport.claims;
  }
  queue(agent: string): Queue {
    return this.transport.queue(agent);
  }

  /** Observers are told before the gateway acts; the first added is told first. */
  addObserver(observer: BusObserver): void {
    this.observers.push(observer);
  }

  removeObserver(observer: BusObserver): void {
    const i = this.observers.indexOf(observer);
    if (i >= 0) this.observers.splice(i, 1);
  }

  /** Consulted before each publish (new work from outside); e.g. the audit log's buffer bound. */
  addGate(gate: AdmissionGate): void {
    this.gates.push(gate);
  }

  removeGate(gate: AdmissionGate): void {
    const i = this.gates.indexOf(gate);
    if (i >= 0) this.gates.splice(i, 1);
  }

  /** Full validation as the bus applies it: schema, content, cross-field and route rules. */
  validate(value: unknown): ValidationResult {
    const { registry, routes, maxEnvelopeBytes } = this.options;
    return validateOnBus(value, { registry, routes, maxBytes: maxEnvelopeBytes });
  }

  /** Validate, then enqueue for the receiving agent; refused messages are dead-lettered. */
  async publish(value: unknown, publisher: string | null = null): Promise<PublishResult> {
    for (const gate of this.gates) gate.admit();
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
    if (await this.transport.isQueued(env)) {
      this.options.logger.info({ message_id: env.message_id, queue: target }, "message already published; not sent again");
      return { accepted: true, message_id: env.message_id, queue: target, duplicate: true };
    }
    await this.enqueue([env]);
    return { accepted: true, message_id: env.message_id, queue: target };
  }

  /** Record and send envelopes that already passed validation (COMPLETE ones are recorded only). */
  async enqueue(envelopes: Envelope[], delays?: ReadonlyMap<string, number>): Promise<void> {
    for (const env of envelopes) this.emit(queueOf(env) === null ? "completed" : "published", env, env.agent.name);
    await this.transport.publish(envelopes, delays);
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
    const id = await this.transport.deadLetters.add({ stage, agent, queue, envelope: value, issues, error, at: this.options.clock.now() });
    this.options.logger.warn({ dead_letter: id, stage, agent, issues: issues.slice(0, 5), error }, "message dead-lettered");
    return id;
  }

  /**
   * Re-publish a dead letter, as it was or as fixed by the caller. It is validated again first;
   * while it still fails, the dead letter stays and the reasons are returned.
   */
  async replay(id: string, fixed?: unknown): Promise<ReplayResult> {
    const letter = await this.transport.deadLetters.get(id);
    const result = this.validate(fixed ?? letter.envelope);
    if (!result.ok) return { replayed: false, issues: result.issues };
    const env = result.envelope;
    if (!(await this.transport.clearFinished(env))) throw new AgentbusError("REPLAY_CONFLICT", `message ${env.message_id} is being processed right now; replay later`);
    await this.enqueue([env]);
    await this.transport.deadLetters.remove(id);
    return { replayed: true, message_id: env.message_id, queue: queueOf(env) };
  }

  /** Tells observers before the gateway acts; an observer's error propagates and stops the action. */
  emit(kind: BusEventKind, envelope: unknown, agent: string | null, issues: Issue[] = [], error: DeadLetter["error"] = null): void {
    if (this.observers.length === 0) return;
    const event: BusEvent = { kind, envelope, agent, issues, error, at: this.options.clock.now() };
    for (const o of this.observers) o.onEvent(event);
  }
}
