import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GENERATED_DIR, renderTypes } from "../../runtime/schemas/generate-types.ts";
import { ENVELOPE_SCHEMA_ID, SchemaRegistry, schemaRegistry } from "../../runtime/schemas/registry.ts";

describe("the schema registry", () => {
  it("loads every schema by $id once and registers the content types of DESIGN.md §3", () => {
    const registry = schemaRegistry();
    expect(registry.contentTypeNames()).toEqual(
      ["action_result", "batch_request", "dispatch_report", "learning_report", "memory_summary", "plan", "synthesis", "task", "user_request", "workflow_record"],
    );
    expect(registry.schemas().map((s) => s.id)).toContain(ENVELOPE_SCHEMA_ID);
    expect(registry.validator(ENVELOPE_SCHEMA_ID)).toBe(registry.validator(ENVELOPE_SCHEMA_ID));
  });

  it("refuses a schema whose $id does not match its path", () => {
    expect(() => new SchemaRegistry(join(import.meta.dirname, "../fixtures/bad-schemas"))).toThrow(
      "schemas/wrong-id.schema.json must have $id https://schemas.agentbus.dev/wrong-id.schema.json",
    );
  });
});

describe("types generated from the schemas", () => {
  it("are up to date with the schemas (run `npm run gen:types` after editing a schema)", async () => {
    const files = await renderTypes();
    const stale = [...files].filter(([name, text]) => !existsSync(join(GENERATED_DIR, name)) || readFileSync(join(GENERATED_DIR, name), "utf8") !== text).map(([n]) => n);
    expect(stale).toEqual([]);
    expect(readdirSync(GENERATED_DIR).sort()).toEqual([...files.keys()].sort());
  });
});
