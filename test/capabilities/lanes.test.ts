/** Capability lanes: per-process limits in all and per domain, released when the task ends. */
import { describe, expect, it } from "vitest";
import { enterLane, laneLoad, laneRetryDelayMs, type LaneSlot } from "../../runtime/capabilities/lanes.ts";
import { CapabilityDeclarationError } from "../../runtime/capabilities/errors.ts";
import { CapabilityRegistry } from "../../runtime/capabilities/registry.ts";
import type { Capability } from "../../runtime/capabilities/types.ts";

function cap(lanes?: Capability["lanes"]): Capability {
  return {
    name: "slow_io",
    description: "Stands for slow I/O.",
    consumes: { url: "url" },
    produces: { html: "html" },
    inputSchema: { type: "object", properties: { url: { type: "string" } } },
    outputSchema: { type: "object", properties: { html: { type: "string" } } },
    ...(lanes ? { lanes } : {}),
    execute: async () => ({ html: "" }),
  };
}

function take(c: Capability, domain: string): LaneSlot {
  const entry = enterLane(c, domain);
  if (!entry.ok) throw new Error(entry.reason);
  return entry.slot;
}

describe("capability lanes", () => {
  it("admits up to perDomain per domain and max in all, and says which limit is full", () => {
    const c = cap({ max: 3, perDomain: 2 });
    const a1 = take(c, "a.example");
    take(c, "a.example");
    expect(enterLane(c, "a.example")).toEqual({ ok: false, reason: "slow_io lane for a.example is full (2 of 2 running in this process)" });
    take(c, "b.example");
    expect(enterLane(c, "c.example")).toEqual({ ok: false, reason: "slow_io lane is full (3 of 3 running in this process)" });
    expect(laneLoad(c)).toEqual({ running: 3, byDomain: { "a.example": 2, "b.example": 1 } });
    a1.release();
    a1.release(); // twice is harmless
    expect(laneLoad(c)).toEqual({ running: 2, byDomain: { "a.example": 1, "b.example": 1 } });
    expect(enterLane(c, "c.example").ok).toBe(true);
  });

  it("a capability without lanes is never limited", () => {
    const c = cap();
    for (let i = 0; i < 100; i++) take(c, "a.example");
    expect(laneLoad(c).running).toBe(0);
  });

  it("each capability object has its own lane (two runtimes in one process do not share)", () => {
    const one = cap({ max: 1 });
    const two = cap({ max: 1 });
    take(one, "x");
    expect(enterLane(two, "x").ok).toBe(true);
  });

  it("a deferred task comes back within about a second, jittered", () => {
    expect(laneRetryDelayMs(() => 0)).toBe(500);
    expect(laneRetryDelayMs(() => 0.999)).toBe(999);
  });

  it("lanes are checked at registration", () => {
    expect(() => new CapabilityRegistry([cap({ max: 0 })])).toThrow(CapabilityDeclarationError);
    expect(() => new CapabilityRegistry([cap({ max: 2, perDomain: 1.5 })])).toThrow(/lanes.perDomain/);
  });
});
