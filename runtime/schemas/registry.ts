/**
 * The schema registry: one Ajv instance that loads every JSON Schema under `schemas/` once, by `$id`.
 * Content types are the schemas in `schemas/content/`: `content/plan.schema.json` registers `plan`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { IANAZone } from "luxon";
import { ConfigError, type Issue } from "../errors/index.ts";
import { SCHEMAS_DIR } from "../paths.ts";

// ajv-formats ships CJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export const SCHEMA_BASE = "https://schemas.agentbus.dev/";
export const ENVELOPE_SCHEMA_ID = `${SCHEMA_BASE}envelope.schema.json`;
export const AGENT_SPEC_SCHEMA_ID = `${SCHEMA_BASE}agent-spec.schema.json`;
export const MEMORY_RULE_SCHEMA_ID = `${SCHEMA_BASE}memory-rule.schema.json`;

export interface SchemaRecord {
  id: string;
  /** Path relative to the schemas root, with forward slashes. */
  file: string;
  schema: Record<string, unknown>;
}

export class SchemaRegistry {
  private readonly ajv: Ajv2020;
  private readonly byId = new Map<string, SchemaRecord>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly contentTypes = new Map<string, string>();

  constructor(readonly root: string = SCHEMAS_DIR) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: false });
    addFormats(this.ajv);
    this.ajv.addFormat("iana-timezone", { type: "string", validate: isKnownZone });
    for (const record of loadSchemaFiles(root)) this.add(record);
  }

  private add(record: SchemaRecord): void {
    if (this.byId.has(record.id)) {
      throw new ConfigError(`schema $id ${record.id} is declared twice (${this.byId.get(record.id)?.file} and ${record.file})`);
    }
    this.byId.set(record.id, record);
    this.ajv.addSchema(record.schema);
    const match = /^content\/([a-z][a-z0-9_]*)\.schema\.json$/.exec(record.file);
    if (match?.[1]) this.contentTypes.set(match[1], record.id);
  }

  /** The compiled validator for a schema id; compiled once, on first use. */
  validator(id: string): ValidateFunction {
    let fn = this.validators.get(id);
    if (!fn) {
      fn = this.ajv.getSchema(id);
      if (!fn) throw new ConfigError(`no schema with $id ${id} in ${this.root}`);
      this.validators.set(id, fn);
    }
    return fn;
  }

  /** Validate a value against a schema id; returns issues with pointers prefixed by `base`. */
  check(id: string, value: unknown, base = "", rule: Issue["rule"] = "schema"): Issue[] {
    const fn = this.validator(id);
    if (fn(value)) return [];
    return toIssues(fn.errors ?? [], base, rule);
  }

  hasContentType(name: string): boolean {
    return this.contentTypes.has(name);
  }

  contentTypeNames(): string[] {
    return [...this.contentTypes.keys()].sort();
  }

  contentSchemaId(name: string): string | undefined {
    return this.contentTypes.get(name);
  }

  schemas(): SchemaRecord[] {
    return [...this.byId.values()];
  }

  /** Compile everything now so a broken schema fails at start-up, not on the first message. */
  compileAll(): this {
    for (const id of this.byId.keys()) this.validator(id);
    return this;
  }
}

// luxon builds an Intl.DateTimeFormat per check (~100 µs); every envelope is checked twice per hop.
const zoneValidity = new Map<string, boolean>();
function isKnownZone(zone: string): boolean {
  let known = zoneValidity.get(zone);
  if (known === undefined) {
    known = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 1000) zoneValidity.set(zone, known);
  }
  return known;
}

export function toIssues(errors: ErrorObject[], base: string, rule: Issue["rule"]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let pointer = base + e.instancePath;
    let message = e.message ?? "is invalid";
    if (e.keyword === "additionalProperties") {
      const extra = String((e.params as { additionalProperty?: unknown }).additionalProperty);
      pointer = `${pointer}/${escapePointer(extra)}`;
      message = "is not an allowed field";
    } else if (e.keyword === "required") {
      const missing = String((e.params as { missingProperty?: unknown }).missingProperty);
      pointer = `${pointer}/${escapePointer(missing)}`;
      message = "is required";
    } else if (e.keyword === "enum") {
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (e.keyword === "format") {
      message = `must be a valid ${String((e.params as { format?: unknown }).format)}`;
    }
    const key = `${pointer}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ pointer, message, rule });
  }
  return issues;
}

export function escapePointer(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

function loadSchemaFiles(root: string): SchemaRecord[] {
  const out: SchemaRecord[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith(".schema.json")) out.push(readSchema(root, full));
    }
  };
  walk(root);
  return out;
}

function readSchema(root: string, file: string): SchemaRecord {
  const rel = relative(root, file).split(sep).join("/");
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`schemas/${rel} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof schema !== "object" || schema === null || typeof (schema as { $id?: unknown }).$id !== "string") {
    throw new ConfigError(`schemas/${rel} has no $id`);
  }
  const record = schema as Record<string, unknown> & { $id: string };
  const expected = `${SCHEMA_BASE}${rel}`;
  if (record.$id !== expected) throw new ConfigError(`schemas/${rel} must have $id ${expected}, found ${record.$id}`);
  return { id: record.$id, file: rel, schema: record };
}

let shared: SchemaRegistry | undefined;
/** The process-wide registry over the project's schemas/ folder. */
export function schemaRegistry(): SchemaRegistry {
  shared ??= new SchemaRegistry().compileAll();
  return shared;
}
