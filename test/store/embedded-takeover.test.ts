/**
 * Embedded mode with real processes: `agentbus start` serves the PGlite folder, a second `start`
 * connects to it. The first is killed (SIGKILL): the second survives, and it or the next CLI process
 * takes over serving the same folder; messages sent afterwards are handled and recorded, the audit
 * log verifies, and the lost connection is logged as one short line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { dropPrefix, REDIS_URL, uniquePrefix } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";
import { pgliteDataDir } from "../helpers/pg.ts";

const prefix = uniquePrefix("takeover");
let dataDir = "";
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await dropPrefix(prefix);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({ REDIS_URL, DATABASE_URL: "", AGENTBUS_DATA_DIR: dataDir, AGENTBUS_QUEUE_PREFIX: prefix, LOG_LEVEL: "info" });
const flags = ["--agents-dir", "test/fixtures/agents"];

function startProcess(): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin/agentbus.js"), ...flags, "start", "--no-http", "--agents", "echo_agent"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env() },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  return { child, stderr: () => err };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lock(): { pid: number; port?: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, "pglite.lock.json"), "utf8")) as { pid: number; port?: number };
  } catch {
    return undefined;
  }
}

/** Sends a new request to echo_agent through the CLI and returns its session id. */
async function send(text: string): Promise<string> {
  const req = buildRequest({ content_type: "user_request", content: { text }, to: "echo_agent" }, { clock: systemClock, timezone: "UTC" });
  const file = join(dataDir, `${req.message_id}.json`);
  writeFileSync(file, JSON.stringify(req));
  const r = await runCli([...flags, "send", file], env(), 60_000);
  expect(r.code, r.stderr).toBe(0);
  return req.metadata.session_id;
}

/** The session's trace once echo_agent's answer is recorded in it. */
async function answered(session: string): Promise<unknown[]> {
  return until(`session ${session} to be recorded as completed`, async () => {
    const r = await runCli([...flags, "trace", session, "--json"], env(), 60_000);
    if (r.code !== 0) return undefined;
    const trace = (JSON.parse(r.stdout) as { envelopes?: unknown[]; events?: unknown[] });
    return /"completed"/.test(r.stdout) ? (trace.envelopes ?? trace.events ?? [r.stdout]) : undefined;
  }, 90_000);
}

describe("killing the process that serves the embedded database", () => {
  it("leaves the other processes working: one takes over serving the folder, the rest reconnect", async () => {
    dataDir = await pgliteDataDir("takeover");
    const a = startProcess();
    await until("the first start to serve the database", () => (lock()?.pid === a.child.pid && lock()?.port ? true : undefined));
    const b = startProcess();
    await until("the second start to run", () => (/agentbus running/.test(b.stderr()) ? true : undefined));
    expect(lock()?.pid).toBe(a.child.pid); // b is a client of a's server

    const before = await send("before the kill");
    await answered(before);

    a.child.kill("SIGKILL");
    await until("the first start to die", () => (a.child.exitCode !== null || a.child.signalCode !== null ? true : undefined));

    const after = await send("after the kill");
    await answered(after);
    const third = await send("and once more");
    await answered(third);

    expect(b.child.exitCode).toBeNull(); // survived
    const owner = lock();
    expect(owner?.pid).not.toBe(a.child.pid); // someone alive serves the folder now
    const verify = await runCli([...flags, "audit", "verify"], env(), 60_000);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // The lost connection is one short line with its cause, never pg's client object.
    // It said what happened, each time on one short line (never pg's client object).
    const lines = b.stderr().split("\n").filter((l) => l.startsWith("{"));
    const told = lines.filter((l) => /connection lost|database server moved|serves it now/.test(l));
    expect(told.some((l) => /database server moved|serves it now/.test(l))).toBe(true);
    for (const line of told) {
      expect(line.length).toBeLessThan(600);
      expect(line).toMatch(/"cause":"[^"]+"|"dead_pid"/);
    }
    expect(lines.filter((l) => /"_connected"|"connectionParameters"/.test(l))).toEqual([]);

    b.child.kill("SIGTERM");
    await until("the second start to stop", () => (b.child.exitCode !== null || b.child.signalCode !== null ? true : undefined), 30_000);
  }, 240_000);
});
