/**
 * Nothing is lost: a worker process killed with SIGKILL mid-job has its job redelivered to another
 * worker process, which completes it. Real processes, real Redis.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { DeliveryOutcome } from "../../runtime/agents/host.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { dropPrefix, fastTopology, FIXTURE_AGENTS, openTestRuntime, REDIS_URL, uniquePrefix } from "../helpers/bus.ts";
import type { Runtime } from "../../runtime/runtime.ts";

const prefix = uniquePrefix("crash");
const dir = mkdtempSync(join(tmpdir(), "agentbus-crash-"));
const effects = join(dir, "effects.log");
const topologyFile = join(dir, "topology.json");
const children: ChildProcess[] = [];
let client: Runtime;

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin/agentbus.js"), "--root", PROJECT_ROOT, "--agents-dir", FIXTURE_AGENTS, "--prefix", prefix, "start", "--agents", "slow_agent"], {
    env: { ...process.env, REDIS_URL, AGENTBUS_TOPOLOGY: topologyFile, AGENTBUS_TEST_EFFECTS: effects, AGENTBUS_TEST_SLOW_MS: "1500", LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${log}`)), 20_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("agentbus running")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => reject(new Error(`worker exited early (${code}):\n${log}`)));
  });
}

function effectLines(): string[] {
  return existsSync(effects) ? readFileSync(effects, "utf8").trim().split("\n").filter(Boolean) : [];
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  writeFileSync(topologyFile, JSON.stringify(fastTopology()));
  ({ runtime: client } = await openTestRuntime(prefix));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await client?.close();
  await dropPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe("a worker killed mid-job", () => {
  it("has its job redelivered to another worker process, which completes it once", async () => {
    const first = await startWorker();
    const req = buildRequest({ content_type: "user_request", content: { text: "survive" }, to: "slow_agent" }, { clock: systemClock, timezone: "UTC" });
    expect((await client.bus.publish(req)).accepted).toBe(true);

    await until("the first worker to start the job", () => (effectLines().includes(`start ${first.pid} ${req.message_id}`) ? true : undefined));
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));

    const second = await startWorker();
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue("slow_agent", { connection, prefix });
    try {
      const outcome = await until("the job to complete", async () => {
        const job = await queue.getJob(req.message_id);
        return job && (await job.getState()) === "completed" ? (job.returnvalue as DeliveryOutcome) : undefined;
      });
      const lines = effectLines();
      expect(lines).toContain(`finish ${second.pid} ${req.message_id}`);
      expect(lines.filter((l) => l.startsWith("finish"))).toHaveLength(1);
      expect(lines.some((l) => l === `finish ${first.pid} ${req.message_id}`)).toBe(false);
      expect(outcome.completed).toHaveLength(1);
      const reply = outcome.completed[0]!;
      expect(reply.output.content.answer).toBe(`done by ${second.pid}: survive`);
      expect(reply.metadata).toMatchObject({ sequence_number: 2, parent_message_id: req.message_id });
      expect(client.bus.validate(reply).ok).toBe(true);
    } finally {
      await queue.close();
      connection.disconnect();
    }
    second.kill("SIGTERM");
    await new Promise((r) => second.once("exit", r));
    expect(second.exitCode).toBe(0);
  });
});
