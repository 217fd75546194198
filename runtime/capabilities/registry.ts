/**
 * The capability registry: the catalog the planner chains and the action agent runs. Registration
 * checks each declaration (name, artifact types, consumes/produces against the schemas' properties)
 * and compiles its input and output schemas once, with a private Ajv, so a bad capability fails at
 * start-up and every execution is checked cheaply.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { Issue } from "../errors/index.ts";
import { toIssues } from "../schemas/registry.ts";
import { CapabilityDeclarationError, CapabilityError } from "./errors.ts";
import type { Capability, CapabilityCatalog } from "./types.ts";

// ajv-formats ships CJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

interface Compiled {
  input: ValidateFunction;
  output: ValidateFunction;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: false });
addFormats(ajv);
const compiled = new WeakMap<Capability, Compiled>();

export class CapabilityRegistry implements CapabilityCatalog {
  private readonly byName = new Map<string, Capability>();

  constructor(capabilities: Iterable<Capability> = []) {
    for (const c of capabilities) this.register(c);
  }

  /** Adds a capability; a duplicate name or a wrong declaration throws CapabilityDeclarationError. */
  register<I extends Record<string, unknown>, O extends Record<string, unknown>>(capability: Capability<I, O>): this {
    // Stored by name and called with inputs checked against its own inputSchema, so its I/O types are erased here.
    const cap = capability as unknown as Capability;
    if (this.byName.has(cap.name)) throw new CapabilityDeclarationError(cap.name, "is already registered");
    checkDeclaration(cap);
    compile(cap);
    this.byName.set(cap.name, cap);
    return this;
  }

  get(name: string): Capability | undefined {
    return this.byName.get(name);
  }

  /** Sorted by name, so planners that walk the list are deterministic. */
  list(): Capability[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  names(): string[] {
    return this.list().map((c) => c.name);
  }

  /** Issues (JSON pointers into `value`) against the capability's input schema; [] when valid. */
  validateInput(name: string, value: unknown): Issue[] {
    return checkInput(this.require(name), value);
  }

  /** Issues (JSON pointers into `value`) against the capability's output schema; [] when valid. */
  validateOutput(name: string, value: unknown): Issue[] {
    return checkOutput(this.require(name), value);
  }

  private require(name: string): Capability {
    const cap = this.byName.get(name);
    if (!cap) throw new CapabilityError("CAPABILITY_UNKNOWN", `no capability named "${name}" (known: ${this.names().join(", ") || "none"})`, { recoverable: false });
    return cap;
  }
}

/** Checks a value against any capability's input schema (compiled once per capability object). */
export function checkInput(capability: Capability, value: unknown): Issue[] {
  const fn = compile(capability).input;
  return fn(value) ? [] : toIssues(fn.errors ?? [], "", "schema");
}

/** Checks a value against any capability's output schema (compiled once per capability object). */
export function checkOutput(capability: Capability, value: unknown): Issue[] {
  const fn = compile(capability).output;
  return fn(value) ? [] : toIssues(fn.errors ?? [], "", "schema");
}

function compile(cap: Capability): Compiled {
  let c = compiled.get(cap);
  if (!c) {
    c = { input: compileSchema(cap, "inputSchema"), output: compileSchema(cap, "outputSchema") };
    compiled.set(cap, c);
  }
  return c;
}

function compileSchema(cap: Capability, which: "inputSchema" | "outputSchema"): ValidateFunction {
  // A schema's $id would be registered in the shared Ajv and clash with another capability's; the
  // capability's name is its identity here, so the $id is dropped.
  const { $id: _id, ...schema } = cap[which];
  try {
    return ajv.compile(schema);
  } catch (err) {
    throw new CapabilityDeclarationError(cap.name, `${which} does not compile: ${(err as Error).message}`, { cause: err });
  }
}

function checkDeclaration(cap: Capability): void {
  const name = typeof cap.name === "string" ? cap.name : String(cap.name);
  const fail = (message: string): never => {
    throw new CapabilityDeclarationError(name, message);
  };
  if (!NAME.test(name)) fail("name must be lower snake case, 1–64 characters (e.g. extract_text)");
  if (typeof cap.description !== "string" || cap.description.trim() === "") fail("needs a description");
  if (typeof cap.execute !== "function") fail("needs an execute function");
  const sides = [
    ["consumes", cap.consumes, "inputSchema", cap.inputSchema],
    ["produces", cap.produces, "outputSchema", cap.outputSchema],
  ] as const;
  for (const [side, fields, schemaName, schema] of sides) {
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) fail(`${schemaName} must be a JSON Schema object`);
    if (schema.type !== "object") fail(`${schemaName} must describe an object ("type": "object")`);
    const props = schema.properties;
    const known = typeof props === "object" && props !== null && !Array.isArray(props) ? Object.keys(props) : [];
    if (typeof fields !== "object" || fields === null || Array.isArray(fields)) fail(`${side} must map field names to artifact types`);
    for (const [field, type] of Object.entries(fields)) {
      if (!FIELD.test(field)) fail(`${side} field "${field}" is not a valid field name`);
      if (typeof type !== "string" || !NAME.test(type)) fail(`${side}.${field} must name an artifact type in lower snake case (e.g. "html"), got ${JSON.stringify(type)}`);
      if (!known.includes(field)) fail(`${side}.${field} is not a property of ${schemaName} (its properties: ${known.join(", ") || "none"})`);
    }
  }
  if (cap.lanes !== undefined) {
    const { max, perDomain } = cap.lanes;
    if (!Number.isInteger(max) || max < 1) fail(`lanes.max must be a positive integer, got ${JSON.stringify(max)}`);
    if (perDomain !== undefined && (!Number.isInteger(perDomain) || perDomain < 1)) fail(`lanes.perDomain must be a positive integer, got ${JSON.stringify(perDomain)}`);
  }
  const required = cap.inputSchema.required;
  if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== "string"))) fail("inputSchema.required must be an array of field names");
}
