/**
 * The supported test helper for agent authors: a runtime over one agents folder on the real Redis,
 * under a queue prefix of its own (so test files can run side by side), with helpers to send a
 * request and wait for what comes back, and a close() that removes every key it made.
 *
 *   const t = await openAgentTest({ agentsDir: join(PROJECT_ROOT, "agents"), agents: ["greeter_agent"] });
 *   const sent = await t.send("greeter_agent", "user_request", { text: "hello" });
 *   const answer = await t.completed(sent);
 *   await t.close();
 *
 * It runs without the store (no Postgres) and without an LLM unless told otherwise.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { loadConfig, type RuntimeConfig } from "./config/config.ts";
import { PROJECT_ROOT } from "./paths.ts";
import { Runtime, type RuntimeOptions } from "./runtime.ts";
import { silentLogger } from "./log/logger.ts";
import { loadTopology } from "./bus/topology.ts";
import { schemaRegistry } from "./schemas/registry.ts";
import type { BusEvent, BusObserver } from "./bus/events.ts";
import { buildRequest } from "./envelope/build.ts";
import { systemClock } from "./envelope/clock.ts";
import type { ContentTypeMap, ContentTypeName, Envelope, JsonObject } from "./envelope/types.ts";
import { AgentbusError, summarize } from "./errors/index.ts";

export { ManualClock, systemClock, type Clock } from "./envelope/clock.ts";
export type { BusEvent, Envelope, Runtime };

export interface AgentTestOptions {
  /** The folder whose agents are loaded (absolute, or relative to the project root). */
  agentsDir: string;
  /** Agents to start; default every agent loaded from the folder. */
  agents?: string[];
  /** Deployment root (context/, governance/); default the project root. */
  root?: string;
  /** Default REDIS_URL, else redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Name used in the queue prefix, to tell test files apart in Redis. */
  name?: string;
  /** Anything else for Runtime.open (clock, capabilities, llm, store …). */
  runtime?: Partial<Omit<RuntimeOptions, "config">>;
  config?: Partial<RuntimeConfig>;
}

export interface AgentTest {
  runtime: Runtime;
  prefix: string;
  /** Every bus event so far, oldest first. */
  readonly events: readonly BusEvent[];
  /** Publishes a new session's first message to `to` as `source` (default "user"); throws if refused. */
  send(to: string, contentType: string, content: object, options?: { source?: string }): Promise<Envelope>;
  /** The first bus event matching `pred` (past or future), or an error after timeoutMs. */
  waitFor(pred: (event: BusEvent) => boolean, timeoutMs?: number): Promise<BusEvent>;
  /** The message that completed the session `sent` began (its next_agent is COMPLETE). */
  completed(sent: Envelope, timeoutMs?: number): Promise<Envelope>;
  /** The first message `from` sent in the session `sent` began. */
  replyFrom(from: string, sent: Envelope, timeoutMs?: number): Promise<Envelope>;
  /** Stops the agents, closes the runtime and deletes the prefix's Redis keys. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export async function openAgentTest(options: AgentTestOptions): Promise<AgentTest> {
  // REDIS_URL, read where all configuration is read, or the usual local server.
  const redisUrl = options.redisUrl ?? loadConfig().redisUrl ?? "redis://127.0.0.1:6379";
  const prefix = `abtest-${options.name ?? "agent"}-${randomBytes(4).toString("hex")}`;
  const root = options.root ?? PROJECT_ROOT;
  const config = loadConfig({}, { root, agentsDir: options.agentsDir, redisUrl, queuePrefix: prefix, logLevel: "silent", ...options.config });
  const events = new EventWaiter();
  const registry = schemaRegistry();
  // Fast retries and stall detection, so that failure paths end within a test's time.
  const topology = { ...loadTopology(registry), job: { attempts: 3, backoff: { type: "fixed" as const, delay_ms: 20 } }, worker: { lock_duration_ms: 2000, stalled_interval_ms: 1000, max_stalled_count: 1 } };
  const runtime = await Runtime.open({
    logger: silentLogger(),
    topology,
    store: false,
    llmConfig: null,
    ...options.runtime,
    config,
    observers: [events, ...(options.runtime?.observers ?? [])],
  });
  runtime.startAgents(options.agents);
  const inSession = (sent: Envelope) => (e: BusEvent): boolean => envelopeOf(e)?.metadata?.session_id === sent.metadata.session_id;
  return {
    runtime,
    prefix,
    get events() {
      return events.events;
    },
    async send(to, contentType, content, sendOptions = {}) {
      const env = buildRequest({ content_type: contentType, content, to, ...(sendOptions.source ? { source: sendOptions.source } : {}) }, { clock: systemClock, timezone: config.timezone });
      const result = await runtime.bus.publish(env);
      if (!result.accepted) throw new AgentbusError("REQUEST_REFUSED", `the bus refused the message: ${summarize(result.issues, 5)}`, { issues: result.issues });
      return env;
    },
    waitFor: (pred, timeoutMs) => events.waitFor(pred, timeoutMs ?? DEFAULT_TIMEOUT_MS),
    async completed(sent, timeoutMs = DEFAULT_TIMEOUT_MS) {
      const e = await events.waitFor((ev) => ev.kind === "completed" && inSession(sent)(ev), timeoutMs);
      return envelopeOf(e)!;
    },
    async replyFrom(from, sent, timeoutMs = DEFAULT_TIMEOUT_MS) {
      const e = await events.waitFor((ev) => ev.kind === "published" && envelopeOf(ev)?.agent.name === from && inSession(sent)(ev), timeoutMs);
      return envelopeOf(e)!;
    },
    async close() {
      try {
        await runtime.close();
      } finally {
        await dropKeys(redisUrl, prefix);
      }
    },
  };
}

/**
 * An envelope's content as its content type's schema defines it; throws when the envelope carries
 * another type. The bus has validated the content against that schema before anyone sees it.
 */
export function contentOf<K extends ContentTypeName>(env: Envelope | undefined, contentType: K): ContentTypeMap[K] & JsonObject {
  if (!env) throw new Error(`expected a ${contentType} envelope, got none`);
  if (env.output.content_type !== contentType) throw new Error(`expected a ${contentType} envelope, got ${env.output.content_type}`);
  return env.output.content as ContentTypeMap[K] & JsonObject;
}

function envelopeOf(event: BusEvent): Envelope | undefined {
  // Events carry the envelope loosely typed (a rejected one may be invalid); these kinds carry valid ones.
  return event.envelope as Envelope | undefined;
}

class EventWaiter implements BusObserver {
  readonly events: BusEvent[] = [];
  private waiters: Array<{ pred: (e: BusEvent) => boolean; resolve: (e: BusEvent) => void }> = [];
  onEvent(event: BusEvent): void {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(event)) return true;
      w.resolve(event);
      return false;
    });
  }
  waitFor(pred: (e: BusEvent) => boolean, timeoutMs: number): Promise<BusEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching bus event within ${timeoutMs} ms; saw: ${this.events.map((e) => e.kind).join(", ")}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }
}

/** Deletes every Redis key under `prefix:` (what a test's runtime left behind). */
export async function dropKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
