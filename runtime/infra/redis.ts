/**
 * Redis for the bus. With REDIS_URL unset: use 127.0.0.1:6379 if it answers, otherwise start a
 * private redis-server from PATH with its data (AOF on) under the data folder, stopped on exit.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { InfrastructureError } from "../errors/index.ts";

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export interface RedisHandle {
  url: string;
  /** True when this process started the server and will stop it. */
  embedded: boolean;
  stop(): Promise<void>;
}

/** Options for connections that block (BullMQ workers): never give up on a command. */
export function workerConnectionOptions(url: string): RedisOptions {
  return { ...parseRedisUrl(url), maxRetriesPerRequest: null, enableReadyCheck: true };
}

/** Options for producers and CLI calls: fail fast instead of queueing commands while offline. */
export function producerConnectionOptions(url: string): RedisOptions {
  return { ...parseRedisUrl(url), maxRetriesPerRequest: 3, enableOfflineQueue: true, connectTimeout: 5000 };
}

export function parseRedisUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InfrastructureError("REDIS_UNAVAILABLE", `REDIS_URL=${url} is not a URL (expected redis://host:port[/db])`, { recoverable: false });
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new InfrastructureError("REDIS_UNAVAILABLE", `REDIS_URL=${url} must start with redis:// or rediss://`, { recoverable: false });
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    db: Number.isInteger(db) ? db : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

export async function ping(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis({ ...parseRedisUrl(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface ResolveRedisOptions {
  redisUrl: string | undefined;
  dataDir: string;
  logger: Logger;
  /** Servers (`agentbus start`) may start a private redis-server; clients only look for one. */
  mayStartEmbedded: boolean;
  /** The Redis tried when REDIS_URL is unset. */
  defaultUrl?: string;
  /** The redis-server binary (config.redisServerBinary: $AGENTBUS_REDIS_SERVER or redis-server on PATH). */
  binary?: string;
}

/** Where a running embedded redis-server advertises its URL, so CLI clients can find it. */
export function embeddedUrlFile(dataDir: string): string {
  return join(dataDir, "redis", "url");
}

export async function resolveRedis(options: ResolveRedisOptions): Promise<RedisHandle> {
  const external = (url: string): RedisHandle => ({ url, embedded: false, stop: () => Promise.resolve() });
  if (options.redisUrl) {
    if (!(await ping(options.redisUrl, 3000))) {
      throw new InfrastructureError("REDIS_UNAVAILABLE", `cannot reach Redis at REDIS_URL=${options.redisUrl}`);
    }
    return external(options.redisUrl);
  }
  const defaultUrl = options.defaultUrl ?? DEFAULT_REDIS_URL;
  if (await ping(defaultUrl)) return external(defaultUrl);
  const advertised = readAdvertisedUrl(options.dataDir);
  if (advertised && (await ping(advertised))) return external(advertised);
  if (!options.mayStartEmbedded) {
    throw new InfrastructureError(
      "REDIS_UNAVAILABLE",
      `no Redis at ${defaultUrl} and no embedded one running for ${options.dataDir}; run \`agentbus start\` first or set REDIS_URL`,
    );
  }
  return startEmbeddedRedis(options.dataDir, options.logger, options.binary);
}

function readAdvertisedUrl(dataDir: string): string | null {
  const file = embeddedUrlFile(dataDir);
  return existsSync(file) ? readFileSync(file, "utf8").trim() || null : null;
}

export async function startEmbeddedRedis(dataDir: string, logger: Logger, binary = "redis-server"): Promise<RedisHandle> {
  if (spawnSync(binary, ["--version"], { stdio: "ignore" }).error) {
    throw new InfrastructureError(
      "BINARY_MISSING",
      `no Redis at ${DEFAULT_REDIS_URL} and no ${binary} on PATH. Install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL=redis://host:port`,
      { recoverable: false },
    );
  }
  const dir = join(dataDir, "redis");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", "", "--maxmemory-policy", "noeviction", "--daemonize", "no"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await ping(url, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new InfrastructureError("REDIS_UNAVAILABLE", `embedded redis-server did not start (exit code ${child.exitCode ?? "none"}); data folder ${dir}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  logger.info({ url, dir }, "started embedded redis-server (AOF on); set REDIS_URL to use your own");
  writeFileSync(embeddedUrlFile(dataDir), `${url}\n`);
  const onExit = (): void => {
    rmSync(embeddedUrlFile(dataDir), { force: true });
    child.kill("SIGTERM");
  };
  process.once("exit", onExit);
  return {
    url,
    embedded: true,
    stop: async () => {
      process.off("exit", onExit);
      rmSync(embeddedUrlFile(dataDir), { force: true });
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** BullMQ needs noeviction: an evicted job key is a lost message. Returns a warning, or null. */
export async function checkEvictionPolicy(client: Redis): Promise<string | null> {
  try {
    const reply = (await client.config("GET", "maxmemory-policy")) as string[];
    const policy = reply[1];
    return policy && policy !== "noeviction" ? `Redis maxmemory-policy is "${policy}"; set it to "noeviction" or messages can be evicted` : null;
  } catch {
    return null; // CONFIG may be disabled on managed Redis; nothing to check then.
  }
}
