import { describe, expect, it } from "vitest";
import { CapabilityRegistry, checkInput } from "../../runtime/capabilities/registry.ts";
import { CapabilityDeclarationError, CapabilityError } from "../../runtime/capabilities/errors.ts";
import { builtinCapabilities } from "../../runtime/capabilities/builtin/index.ts";
import type { Capability } from "../../runtime/capabilities/types.ts";

function upper(overrides: Partial<Capability> = {}): Capability {
  return {
    name: "upper",
    description: "Upper-cases a text.",
    consumes: { text: "text" },
    produces: { text: "text" },
    inputSchema: { type: "object", additionalProperties: false, required: ["text"], properties: { text: { type: "string", maxLength: 10 } } },
    outputSchema: { type: "object", additionalProperties: false, required: ["text"], properties: { text: { type: "string" } } },
    execute: async (input) => ({ text: String(input.text).toUpperCase() }),
    ...overrides,
  };
}

function declarationError(fn: () => unknown): CapabilityDeclarationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CapabilityDeclarationError) return err;
    throw err;
  }
  throw new Error("expected a CapabilityDeclarationError");
}

describe("registering capabilities", () => {
  it("registers, gets and lists capabilities sorted by name", () => {
    const registry = new CapabilityRegistry().register(upper()).register(upper({ name: "lower" }));
    expect(registry.get("upper")?.description).toBe("Upper-cases a text.");
    expect(registry.get("nope")).toBeUndefined();
    expect(registry.list().map((c) => c.name)).toEqual(["lower", "upper"]);
  });

  it("refuses a second capability with the same name", () => {
    const registry = new CapabilityRegistry([upper()]);
    const err = declarationError(() => registry.register(upper()));
    expect(err.code).toBe("CAPABILITY_INVALID");
    expect(err.message).toBe("capability upper: is already registered");
  });

  it("refuses consumes fields that are not input properties, naming them", () => {
    const err = declarationError(() => new CapabilityRegistry([upper({ consumes: { text: "text", lang: "language" } })]));
    expect(err.message).toBe("capability upper: consumes.lang is not a property of inputSchema (its properties: text)");
  });

  it("refuses produces fields that are not output properties", () => {
    const err = declarationError(() => new CapabilityRegistry([upper({ produces: { summary: "summary" } })]));
    expect(err.message).toBe("capability upper: produces.summary is not a property of outputSchema (its properties: text)");
  });

  it("refuses bad names, bad artifact types, non-object schemas and schemas that do not compile", () => {
    expect(declarationError(() => new CapabilityRegistry([upper({ name: "Upper Case" })])).message).toContain("name must be lower snake case");
    expect(declarationError(() => new CapabilityRegistry([upper({ consumes: { text: "Plain Text" } })])).message).toContain("consumes.text must name an artifact type");
    expect(declarationError(() => new CapabilityRegistry([upper({ outputSchema: { type: "string" } })])).message).toContain('outputSchema must describe an object ("type": "object")');
    const broken = upper({ inputSchema: { type: "object", properties: { text: { type: "strin" } } } });
    expect(declarationError(() => new CapabilityRegistry([broken])).message).toMatch(/^capability upper: inputSchema does not compile: /);
    expect(declarationError(() => new CapabilityRegistry([upper({ description: " " })])).message).toContain("needs a description");
  });
});

describe("validating inputs and outputs", () => {
  const registry = new CapabilityRegistry([upper()]);

  it("returns no issues for valid values", () => {
    expect(registry.validateInput("upper", { text: "abc" })).toEqual([]);
    expect(registry.validateOutput("upper", { text: "ABC" })).toEqual([]);
  });

  it("returns JSON-pointer issues for invalid ones", () => {
    expect(registry.validateInput("upper", { text: 5, extra: true })).toEqual([
      { pointer: "/extra", message: "is not an allowed field", rule: "schema" },
      { pointer: "/text", message: "must be string", rule: "schema" },
    ]);
    expect(registry.validateInput("upper", {})).toEqual([{ pointer: "/text", message: "is required", rule: "schema" }]);
    expect(registry.validateOutput("upper", { text: null })).toEqual([{ pointer: "/text", message: "must be string", rule: "schema" }]);
  });

  it("checks capabilities from any catalog with the same compiled schemas", () => {
    expect(checkInput(upper(), { text: "far too long a text" })).toEqual([{ pointer: "/text", message: "must NOT have more than 10 characters", rule: "schema" }]);
  });

  it("says clearly when asked about an unknown capability", () => {
    expect(() => registry.validateInput("nope", {})).toThrow(CapabilityError);
    expect(() => registry.validateInput("nope", {})).toThrow('no capability named "nope" (known: upper)');
  });
});

describe("the built-in capabilities", () => {
  it("are the five the planner chains, with the declared artifact types", () => {
    const registry = builtinCapabilities();
    const declared = Object.fromEntries(registry.list().map((c) => [c.name, { consumes: c.consumes, produces: c.produces }]));
    expect(declared).toEqual({
      compute: { consumes: { expression: "expression" }, produces: { value: "number" } },
      extract_text: { consumes: { html: "html" }, produces: { text: "text" } },
      fetch: { consumes: { url: "url" }, produces: { html: "html" } },
      find_mentions: { consumes: { text: "text", terms: "terms" }, produces: { passages: "passages" } },
      summarize: { consumes: { text: "text" }, produces: { summary: "summary" } },
    });
  });

  it("each call builds its own registry, so a deployment can add to it", () => {
    const a = builtinCapabilities();
    a.register(upper());
    expect(a.get("upper")).toBeDefined();
    expect(builtinCapabilities().get("upper")).toBeUndefined();
  });
});
