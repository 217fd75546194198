/** Log format: readable lines on a terminal, JSON elsewhere, an override for both; always on stderr. */
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../runtime/errors/index.ts";
import { logFormat } from "../../runtime/log/logger.ts";
import { DATABASE_URL, dropPrefix, dropSchema, REDIS_URL, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";

describe("logFormat", () => {
  it("is pretty when stderr is a terminal and JSON otherwise", () => {
    expect(logFormat({}, true)).toBe("pretty");
    expect(logFormat({}, false)).toBe("json");
    expect(logFormat({ AGENTBUS_LOG_FORMAT: "auto" }, true)).toBe("pretty");
  });

  it("follows AGENTBUS_LOG_FORMAT or LOG_FORMAT over the terminal guess, AGENTBUS_ first", () => {
    expect(logFormat({ AGENTBUS_LOG_FORMAT: "json" }, true)).toBe("json");
    expect(logFormat({ LOG_FORMAT: "json" }, true)).toBe("json");
    expect(logFormat({ LOG_FORMAT: "PRETTY" }, false)).toBe("pretty");
    expect(logFormat({ AGENTBUS_LOG_FORMAT: "json", LOG_FORMAT: "pretty" }, false)).toBe("json");
  });

  it("refuses a format it does not know, naming the variable", () => {
    expect(() => logFormat({ AGENTBUS_LOG_FORMAT: "xml" }, true)).toThrow(ConfigError);
    expect(() => logFormat({ LOG_FORMAT: "text" }, true)).toThrow(/LOG_FORMAT must be json, pretty or auto, got "text"/);
  });
});

describe("a CLI command that logs while it answers", () => {
  const prefix = uniquePrefix("logs");
  const schema = uniqueSchema("logs");
  // Broken agent folders make every runtime log errors while the command prints its answer.
  const env = { REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: schema, AGENTBUS_QUEUE_PREFIX: prefix, AGENTBUS_AGENTS_DIR: "test/fixtures/broken-agents", LOG_LEVEL: "info" };

  afterAll(async () => {
    await dropPrefix(prefix);
    await dropSchema(schema);
  });

  it("writes readable log lines to stderr with AGENTBUS_LOG_FORMAT=pretty, and only its answer to stdout", async () => {
    const res = await runCli(["dead-letters"], { ...env, AGENTBUS_LOG_FORMAT: "pretty" });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("0 dead letter(s)\n");
    expect(res.stderr).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] ERROR: agent not loaded: /m);
    expect(res.stderr).not.toMatch(/^\{"level"/m);
  });

  it("writes JSON lines to stderr when stderr is not a terminal, and only its answer to stdout", async () => {
    const res = await runCli(["dead-letters", "--json"], { ...env, AGENTBUS_LOG_FORMAT: "auto" });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ total: 0, dead_letters: [] });
    const lines = res.stderr.split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContainEqual(expect.stringContaining("agent not loaded"));
  });
});
