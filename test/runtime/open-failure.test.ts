/**
 * Runtime.open opens in order and, when a step fails, closes in reverse what it opened: a bad LLM
 * configuration found after the database, Redis and the bus are open leaves no Redis connection
 * and no database connection behind; a component failing after the HTTP API listens stops it.
 */
import { connect } from "node:net";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../runtime/config/config.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { Runtime, type RuntimeComponent } from "../../runtime/runtime.ts";
import { httpComponent } from "../../runtime/http/component.ts";
import { agentsComponent } from "../../runtime/agents/component.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { DATABASE_URL, dropPrefix, dropSchema, fastTopology, FIXTURE_AGENTS, REDIS_URL, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";

const prefix = uniquePrefix("openfail");
const schema = uniqueSchema("openfail");
/** Our database connections carry this name (pg_stat_activity.application_name). */
const appName = schema.slice(0, 60);
const databaseUrl = `${DATABASE_URL}${DATABASE_URL.includes("?") ? "&" : "?"}application_name=${appName}`;

afterAll(async () => {
  await dropPrefix(prefix);
  await dropSchema(schema);
});

function config(env: Record<string, string> = {}) {
  return loadConfig(env, { root: PROJECT_ROOT, agentsDir: FIXTURE_AGENTS, redisUrl: REDIS_URL, queuePrefix: prefix, logLevel: "silent", dbSchema: schema, databaseUrl });
}

function open(env: Record<string, string>, components: RuntimeComponent[] = []): Promise<Runtime> {
  return Runtime.open({ config: config(env), logger: silentLogger(), topology: fastTopology(), audit: { flushIntervalMs: 20 }, components });
}

/** Redis connections named after this prefix (every bus connection is named agentbus:<prefix>). */
async function redisClients(): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    const list = (await redis.client("LIST")) as string;
    return list.split("\n").filter((line) => line.includes(` name=agentbus:${prefix} `)).length;
  } finally {
    redis.disconnect();
  }
}

async function pgConnections(): Promise<number> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [appName]);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Connections close asynchronously on the server side: poll with a deadline. */
async function eventually(read: () => Promise<number>, want: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  let n = await read();
  while (n !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    n = await read();
  }
  return n;
}

function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("opening a runtime that fails half-way", () => {
  it("a good configuration holds named Redis connections and database connections (the counts below can see them)", async () => {
    const runtime = await open({}, [agentsComponent(["echo_agent"])]);
    try {
      expect(await redisClients()).toBeGreaterThan(0);
      expect(await pgConnections()).toBeGreaterThan(0);
    } finally {
      await runtime.close();
    }
    expect(await eventually(redisClients, 0)).toBe(0);
    expect(await eventually(pgConnections, 0)).toBe(0);
  });

  it("a bad LLM configuration (read after the store, Redis and the bus are open) leaves no Redis connection and no database connection", async () => {
    await expect(open({ AGENTBUS_LLM_PROVIDER: "nonsense" })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    expect(await eventually(redisClients, 0)).toBe(0);
    expect(await eventually(pgConnections, 0)).toBe(0);
  });

  it("a component that fails after the HTTP API and the workers started closes them, in reverse order", async () => {
    const order: string[] = [];
    const http = httpComponent({ token: "0123456789abcdef0123", port: 0 });
    let url: string | undefined;
    const spy = (name: string, fail = false): RuntimeComponent => ({
      name,
      start: () => {
        url ??= http.url;
        order.push(`start ${name}`);
        if (fail) throw new Error(`${name} cannot start`);
      },
      close: () => void order.push(`close ${name}`),
    });
    await expect(open({}, [http, spy("first"), agentsComponent(["echo_agent"]), spy("broken", true)])).rejects.toThrow("broken cannot start");
    expect(order).toEqual(["start first", "start broken", "close first"]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await refused(url!)).toBe(true);
    expect(await eventually(redisClients, 0)).toBe(0);
    expect(await eventually(pgConnections, 0)).toBe(0);
  });

  it("an unknown agent for the workers is a configuration error that leaves nothing open", async () => {
    await expect(open({}, [agentsComponent(["no_such_agent"])])).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    expect(await eventually(redisClients, 0)).toBe(0);
    expect(await eventually(pgConnections, 0)).toBe(0);
  });
});
