/** Test harness: a runtime on the real Redis with a unique queue prefix, torn down afterwards. */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { dropKeys } from "../../runtime/testing.ts";
import pg from "pg";
import { loadConfig, type RuntimeConfig } from "../../runtime/config/config.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { Runtime, type RuntimeOptions } from "../../runtime/runtime.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { loadTopology, type QueueTopology } from "../../runtime/bus/topology.ts";
import { schemaRegistry } from "../../runtime/schemas/registry.ts";
import type { BusEvent, BusObserver } from "../../runtime/bus/events.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const FIXTURE_AGENTS = join(PROJECT_ROOT, "test", "fixtures", "agents");

export function uniquePrefix(name: string): string {
  return `abtest-${name}-${randomBytes(4).toString("hex")}`;
}

export function testConfig(prefix: string, overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  return loadConfig({}, { root: PROJECT_ROOT, agentsDir: FIXTURE_AGENTS, redisUrl: REDIS_URL, queuePrefix: prefix, logLevel: "silent", ...overrides });
}

/** Fast retries and stall detection so failure paths finish within a test's time. */
export function fastTopology(): QueueTopology {
  const t = loadTopology(schemaRegistry());
  return { ...t, job: { attempts: 3, backoff: { type: "fixed", delay_ms: 20 } }, worker: { lock_duration_ms: 2000, stalled_interval_ms: 1000, max_stalled_count: 1 } };
}

/** Collects bus events and lets a test wait for one. */
export class EventLog implements BusObserver {
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
  of(kind: BusEvent["kind"]): BusEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }
  waitFor(pred: (e: BusEvent) => boolean, timeoutMs = 10_000): Promise<BusEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching bus event within ${timeoutMs} ms; saw: ${this.events.map((e) => e.kind).join(", ")}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  }
}

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * A runtime on real Redis under `prefix`. Without `dbSchema` it runs the bus alone (no store);
 * with one, it records to that Postgres schema (create it unique per file, drop it with dropSchema).
 */
export async function openTestRuntime(
  prefix: string,
  options: Partial<RuntimeOptions> & { dbSchema?: string; databaseUrl?: string } = {},
): Promise<{ runtime: Runtime; events: EventLog }> {
  const events = new EventLog();
  const { dbSchema, databaseUrl, ...rest } = options;
  const runtime = await Runtime.open({
    config: testConfig(prefix, dbSchema ? { dbSchema, databaseUrl: databaseUrl ?? DATABASE_URL } : {}),
    logger: silentLogger(),
    topology: fastTopology(),
    store: Boolean(dbSchema),
    audit: { flushIntervalMs: 20 },
    llmConfig: null,
    ...rest,
    observers: [events, ...(options.observers ?? [])],
  });
  return { runtime, events };
}

export function uniqueSchema(name: string): string {
  return `abtest_${name}_${randomBytes(4).toString("hex")}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under the prefix. */
export function dropPrefix(prefix: string): Promise<void> {
  return dropKeys(REDIS_URL, prefix);
}
