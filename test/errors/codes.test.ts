/**
 * One typed list of error codes: the HTTP status map and the CLI exit codes both read it, so a code
 * means the same failure to a client and to a script.
 */
import { describe, expect, it } from "vitest";
import { AgentbusError, ERROR_CODES, EXIT, exitCodeOf, httpStatusOf, InfrastructureError } from "../../runtime/errors/index.ts";
import { answerFor } from "../../runtime/http/errors.ts";
import { reportError } from "../../runtime/cli/output.ts";

function quietly<T>(fn: () => T): T {
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  process.stderr.write = () => true;
  process.stdout.write = () => true;
  try {
    return fn();
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
}

describe("ERROR_CODES", () => {
  it("drives the HTTP status of every listed code (and 500 hides the message)", () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      const answer = answerFor(new AgentbusError(code as keyof typeof ERROR_CODES, "why"));
      expect(answer.status, code).toBe(info.http);
      if (info.http === 500) expect(answer.error.message).toBe("unexpected error; see the server log");
    }
  });

  it("drives the CLI exit code of every listed code", () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(quietly(() => reportError(new AgentbusError(code as keyof typeof ERROR_CODES, "why"), true)), code).toBe(info.exit);
    }
  });

  it("keeps the answers scripts and clients rely on", () => {
    expect([httpStatusOf("BAD_REQUEST"), httpStatusOf("NOT_FOUND"), httpStatusOf("REQUEST_REFUSED")]).toEqual([400, 404, 422]);
    expect([httpStatusOf("AUDIT_BUFFER_FULL"), httpStatusOf("REDIS_UNAVAILABLE"), httpStatusOf("STORE_UNAVAILABLE")]).toEqual([503, 503, 503]);
    expect([exitCodeOf("USAGE"), exitCodeOf("CONFIG_INVALID"), exitCodeOf("PORT_IN_USE")]).toEqual([EXIT.usage, EXIT.usage, EXIT.usage]);
    expect([exitCodeOf("REDIS_UNAVAILABLE"), exitCodeOf("STORE_UNAVAILABLE"), exitCodeOf("BINARY_MISSING")]).toEqual([3, 3, 3]);
    expect(quietly(() => reportError(new InfrastructureError("PORT_IN_USE", "taken")))).toBe(EXIT.usage);
  });

  it("treats agents' own codes as internal: 500 and exit 1", () => {
    expect(httpStatusOf("HTTP_429")).toBe(500);
    expect(exitCodeOf("PLAN_INVALID")).toBe(EXIT.failed);
    expect(httpStatusOf("toString")).toBe(500); // not fooled by Object.prototype
  });
});
