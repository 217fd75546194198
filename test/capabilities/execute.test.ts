import { describe, expect, it } from "vitest";
import { executeTask } from "../../runtime/capabilities/execute.ts";
import { CapabilityRegistry } from "../../runtime/capabilities/registry.ts";
import { CapabilityError } from "../../runtime/capabilities/errors.ts";
import { builtinCapabilities } from "../../runtime/capabilities/builtin/index.ts";
import type { Capability } from "../../runtime/capabilities/types.ts";
import { ManualClock } from "../../runtime/envelope/clock.ts";
import { AgentbusError } from "../../runtime/errors/index.ts";
import { silentLogger } from "../../runtime/log/logger.ts";

const clock = ManualClock.at("2026-11-21T10:00:00Z");
const options = { clock, logger: silentLogger(), llm: null };

function probe(execute: Capability["execute"]): Capability {
  return {
    name: "probe",
    description: "Does what the test says.",
    consumes: { url: "url" },
    produces: { n: "number" },
    inputSchema: { type: "object", required: ["url"], properties: { url: { type: "string" } } },
    outputSchema: { type: "object", additionalProperties: false, required: ["n"], properties: { n: { type: "integer" } } },
    execute,
  };
}

const run = (execute: Capability["execute"], deadline_ms?: number) =>
  executeTask(new CapabilityRegistry([probe(execute)]), { capability: "probe", inputs: { url: "https://Example.org/a" }, ...(deadline_ms ? { deadline_ms } : {}) }, options);

describe("running one task", () => {
  it("returns the outputs, the time spent by the clock, and the domain of a url input", async () => {
    const out = await run(async () => {
      clock.advance(42);
      return { n: 1 };
    });
    expect(out).toEqual({ outputs: { n: 1 }, duration_ms: 42, domain: "example.org" });
  });

  it("an unknown capability is CAPABILITY_UNKNOWN, not recoverable", async () => {
    const out = await executeTask(builtinCapabilities(), { capability: "teleport", inputs: {} }, options);
    expect(out.error).toEqual({ code: "CAPABILITY_UNKNOWN", message: 'no capability named "teleport" (known: compute, extract_text, fetch, find_mentions, summarize)', recoverable: false });
  });

  it("inputs that break the input schema are BAD_INPUT with pointers, and the capability does not run", async () => {
    const out = await executeTask(builtinCapabilities(), { capability: "compute", inputs: { expression: 7, extra: 1 } }, options);
    expect(out.error).toEqual({ code: "BAD_INPUT", message: "inputs for compute are invalid: /inputs/extra: is not an allowed field; /inputs/expression: must be string", recoverable: false });
    expect(out.issues).toEqual([
      { pointer: "/inputs/extra", message: "is not an allowed field", rule: "schema" },
      { pointer: "/inputs/expression", message: "must be string", rule: "schema" },
    ]);
    expect(out.outputs).toEqual({});

    let ran = false;
    const refused = await executeTask(new CapabilityRegistry([probe(async () => ((ran = true), { n: 1 }))]), { capability: "probe", inputs: { url: 5 } }, options);
    expect(refused.error?.code).toBe("BAD_INPUT");
    expect(ran).toBe(false);
  });

  it("outputs that break the output schema are OUTPUT_INVALID, not recoverable", async () => {
    const out = await run(async () => ({ n: "one" }));
    expect(out.error).toMatchObject({ code: "OUTPUT_INVALID", message: "probe produced invalid outputs: /outputs/n: must be integer", recoverable: false });
    expect(out.outputs).toEqual({});
  });

  it("a capability that overruns the deadline is TIMEOUT, recoverable, even when it ignores the signal", async () => {
    let aborted = false;
    const out = await run(
      (_input, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => (aborted = true));
          setTimeout(() => resolve({ n: 1 }), 1000).unref();
        }),
      50,
    );
    expect(out.error).toEqual({ code: "TIMEOUT", message: "probe did not finish within the task's deadline of 50 ms", recoverable: true });
    expect(aborted).toBe(true);
  });

  it("keeps a CapabilityError's code, flag, domain and retry_after_ms", async () => {
    const out = await run(async () => {
      throw new CapabilityError("HTTP_429", "busy", { recoverable: true, domain: "api.example.org", retry_after_ms: 1500.4 });
    });
    expect(out).toMatchObject({ domain: "api.example.org", error: { code: "HTTP_429", message: "busy", recoverable: true, retry_after_ms: 1500 } });
  });

  it("keeps other runtime errors' code and flag (an LLM's rate limit stays recoverable)", async () => {
    const out = await run(async () => {
      throw new AgentbusError("LLM_RATE_LIMITED", "provider said 429", { recoverable: true });
    });
    expect(out.error).toEqual({ code: "LLM_RATE_LIMITED", message: "provider said 429", recoverable: true });
  });

  it("an unexpected exception is CAPABILITY_FAILED, not recoverable", async () => {
    const out = await run(async () => {
      throw new TypeError("x is undefined");
    });
    expect(out.error).toEqual({ code: "CAPABILITY_FAILED", message: "the capability threw unexpectedly: x is undefined", recoverable: false });
  });
});
