/**
 * Numeric flags are parsed one way for every command: a bad value is a usage error, exit 2, one
 * line, no stack trace, before anything is opened (no Redis or Postgres is needed to see it).
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";

// Unreachable on purpose: a flag checked too late would show up as exit 3 (unavailable) instead.
const env = { REDIS_URL: "redis://127.0.0.1:1", DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" };

describe("bad numeric flags", () => {
  it("dead-letters --limit abc: exit 2, a clear message, no stack trace", async () => {
    const res = await runCli(["dead-letters", "--limit", "abc"], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("error USAGE: --limit must be a positive whole number, got abc");
    expect(res.stderr).not.toContain("    at ");
  });

  it("submit --timeout and demo --timeout say the same thing with the same exit", async () => {
    const submit = await runCli(["submit", "hello", "--wait", "--timeout", "soon"], env);
    const demo = await runCli(["demo", "--timeout", "soon"], env);
    for (const res of [submit, demo]) {
      expect(res.code).toBe(2);
      expect(res.stderr).toContain("error USAGE: --timeout must be a positive number of seconds, got soon");
      expect(res.stderr).not.toContain("    at ");
    }
  });

  it("start --port and demo --port refuse a non-port before starting anything", async () => {
    for (const args of [["start", "--port", "99999"], ["demo", "--port", "x"]]) {
      const res = await runCli(args, env);
      expect(res.code, args.join(" ")).toBe(2);
      expect(res.stderr).toContain("--port must be a port number (0 picks a free one)");
    }
  });
});
