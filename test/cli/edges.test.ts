/**
 * The CLI on hostile paths and pipes: directories, devices and pipes are usage errors (exit 2, no
 * hang), a deep file is refused by the depth guard, and a reader that goes away is not a crash.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { DATABASE_URL, dropPrefix, dropSchema, REDIS_URL, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "agentbus-edges-"));
const prefix = uniquePrefix("edges");
const schema = uniqueSchema("edges");
const env = { REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: schema, AGENTBUS_QUEUE_PREFIX: prefix, AGENTBUS_AGENTS_DIR: "test/fixtures/agents" };

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropPrefix(prefix);
  await dropSchema(schema);
});

/** 100 000 nested objects: JSON.parse copes, anything recursive after it overflows the stack. */
function deepFile(): string {
  const file = join(dir, "deep.json");
  writeFileSync(file, `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`);
  return file;
}

describe("agentbus validate on things that are not JSON files", () => {
  it("exits 2 with a clear message for a directory (no stack trace)", async () => {
    const res = await runCli(["validate", dir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`cannot read ${dir}: it is a directory; give a JSON file`);
    expect(res.stderr).not.toContain("    at ");
  });

  it("exits 2 at once for /dev/zero instead of reading it for ever", async () => {
    const res = await runCli(["validate", "/dev/zero"], {}, 20_000);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("cannot read /dev/zero: it is a character device");
  });

  it("exits 2 for a named pipe without opening it (opening one with no writer blocks)", async () => {
    const fifo = join(dir, "pipe.json");
    execFileSync("mkfifo", [fifo]);
    const res = await runCli(["validate", fifo], {}, 20_000);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("it is a named pipe");
  });

  it("reports a 100 000-level-deep file as too deep (exit 1), with the guard's pointer", async () => {
    const res = await runCli(["validate", deepFile(), "--json"]);
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as { valid: boolean; issues: Array<{ pointer: string; message: string; rule: string }> };
    expect(out.issues).toEqual([{ pointer: "/a".repeat(32), message: "nesting is deeper than 32 levels", rule: "guard" }]);
  });
});

describe("agentbus send of a 100 000-level-deep file", () => {
  it("is refused by the depth guard with its message, not a stack overflow", async () => {
    const file = deepFile();
    const res = await runCli(["send", file], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("nesting is deeper than 32 levels");
    expect(res.stderr).not.toContain("Maximum call stack");
    const json = await runCli(["send", file, "--json"], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ accepted: false });
  });
});

describe("agentbus send of text Postgres cannot store", () => {
  it.each([
    ["nul-in-request-text.json", "NUL character (U+0000) at offset 13"],
    ["lone-surrogate-in-request-text.json", "lone surrogate (U+D800) at offset 13"],
  ])("refuses %s with the guard's pointer (exit 1), instead of failing in Postgres later", async (file, message) => {
    const res = await runCli(["send", `test/fixtures/envelopes/invalid/${file}`, "--json"], env);
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as { accepted: boolean; issues: unknown[] };
    expect(out.accepted).toBe(false);
    expect(out.issues).toEqual([{ pointer: "/output/content/text", message: expect.stringContaining(message), rule: "guard" }]);
  });
});

describe("a reader that goes away", () => {
  it("ends --json output quietly: no EPIPE crash, the command's own exit code", async () => {
    // Far more output than a pipe buffers, so the writer meets the closed pipe for certain.
    const invalid = readdirSync(join(PROJECT_ROOT, "test/fixtures/envelopes/invalid"))
      .filter((f) => f.endsWith(".json") && f !== "expected.json" && !f.includes("1mib"))
      .map((f) => `test/fixtures/envelopes/invalid/${f}`);
    const args = Array.from({ length: 30 }, () => invalid).flat();
    const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin/agentbus.js"), "validate", ...args, "--json"], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // Like `| head -c 1`: read one chunk, then close the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(stderr).not.toContain("EPIPE");
    expect(stderr).not.toContain("Unhandled");
    expect(code).toBe(1); // some files are invalid: the exit code says so, as without the pipe
  });
});
