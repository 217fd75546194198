/** `agentbus start` as a user runs it: a taken port fails fast (exit 2) before any worker starts. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { DATABASE_URL, dropPrefix, dropSchema, REDIS_URL, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";

const prefix = uniquePrefix("start");
const schema = uniqueSchema("start");
const dataDir = mkdtempSync(join(tmpdir(), "agentbus-start-"));
const env = {
  REDIS_URL,
  DATABASE_URL,
  AGENTBUS_DB_SCHEMA: schema,
  AGENTBUS_QUEUE_PREFIX: prefix,
  AGENTBUS_AGENTS_DIR: "test/fixtures/agents",
  AGENTBUS_DATA_DIR: dataDir,
  AGENTBUS_API_TOKEN: "test-token-0123456789abcdef",
  // Info level, so a worker that started would say so ("agentbus running …").
  LOG_LEVEL: "info",
  AGENTBUS_LOG_FORMAT: "json",
};
let held: Server;
let heldPort: number;

beforeAll(async () => {
  held = createServer();
  await new Promise<void>((resolve) => held.listen(0, "127.0.0.1", resolve));
  heldPort = (held.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => held.close(() => resolve()));
  await dropPrefix(prefix);
  await dropSchema(schema);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("agentbus start on a port that is taken", () => {
  it.each([
    ["--port", (p: number) => ({ args: ["--port", String(p)], env: {} })],
    ["AGENTBUS_HTTP_PORT", (p: number) => ({ args: [], env: { AGENTBUS_HTTP_PORT: String(p) } })],
  ])("exits 2 naming the port and how to pick another (%s), without starting workers", async (_how, given) => {
    const { args, env: extra } = given(heldPort);
    // On the old code the workers kept the process alive after PORT_IN_USE: runCli's timeout fails the test.
    const res = await runCli(["start", ...args], { ...env, ...extra }, 20_000);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`port ${heldPort} on 127.0.0.1 is in use; pick another with --port <n> or AGENTBUS_HTTP_PORT (0 picks a free one)`);
    expect(res.stderr).not.toContain("agentbus running");
    expect(res.stdout).toBe("");
  });
});

describe("agentbus start on a free port", () => {
  it("serves the API (port 0 picks one) and stops on SIGTERM with exit 0", async () => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin/agentbus.js"), "start", "--port", "0"], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (!url || !stderr.includes("agentbus running")) {
        if (Date.now() > deadline) throw new Error(`start did not come up:\n${stderr}`);
        url = /HTTP API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stderr.indexOf("HTTP API on")).toBeLessThan(stderr.indexOf("agentbus running"));
      // The rollout guardrail is scheduled (AGENTBUS_GUARDRAIL_INTERVAL_S, 300 s by default).
      expect(stderr).toContain("rollout guardrail every 300 s");
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ ok: true, store: { available: true }, redis: { available: true } });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});
