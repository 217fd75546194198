/**
 * Generates TypeScript types from the JSON Schemas so the two cannot drift:
 *   npm run gen:types            writes runtime/schemas/generated/
 *   npm run gen:types -- --check exits 1 if the committed files differ from what the schemas give
 * A test runs the check too.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";
import { SCHEMA_BASE, SchemaRegistry } from "./registry.ts";

const HEADER = "/* Generated from schemas/ by `npm run gen:types`. Do not edit by hand. */\n";
export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), "generated");

function moduleName(file: string): string {
  return file.replace(/\.schema\.json$/, "").replace(/[/-]/g, "_");
}

function typeName(schema: Record<string, unknown>, file: string): string {
  const title = schema.title;
  if (typeof title !== "string") throw new Error(`schemas/${file} needs a title to name its type`);
  return title;
}

/** Every generated file's path (relative to GENERATED_DIR) and contents. */
export async function renderTypes(registry = new SchemaRegistry()): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const contentEntries: string[] = [];
  const imports: string[] = [];
  const exportsList: string[] = [];
  for (const record of registry.schemas().sort((a, b) => a.file.localeCompare(b.file))) {
    // The schema's $id is not a reachable URL: strip it so the compiler never tries to resolve it.
    const { $id: _id, ...schema } = record.schema;
    const ts = await compile(schema, typeName(record.schema, record.file), {
      bannerComment: "",
      additionalProperties: false,
      format: true,
      declareExternallyReferenced: true,
      unreachableDefinitions: false,
      maxItems: -1,
      // A $ref to another agentbus schema (memory-rule → learning_report's effect) is read from
      // the registry, never fetched.
      $refOptions: { resolve: { http: false, agentbus: { order: 1, canRead: (file: { url: string }) => file.url.startsWith(SCHEMA_BASE), read: (file: { url: string }) => JSON.stringify(registry.schemas().find((r) => r.id === file.url.split("#")[0])?.schema ?? {}) } } },
    });
    const mod = moduleName(record.file);
    files.set(`${mod}.ts`, HEADER + ts);
    const name = typeName(record.schema, record.file);
    exportsList.push(`export type { ${name} } from "./${mod}.ts";`);
    const content = /^content\/([a-z0-9_]+)\.schema\.json$/.exec(record.file);
    if (content?.[1]) {
      imports.push(`import type { ${name} } from "./${mod}.ts";`);
      contentEntries.push(`  ${content[1]}: ${name};`);
    }
  }
  const index =
    HEADER +
    imports.join("\n") +
    "\n\n" +
    exportsList.join("\n") +
    "\n\n/** Content type name → the TypeScript type of `output.content`. */\nexport interface ContentTypeMap {\n" +
    contentEntries.join("\n") +
    "\n}\n\nexport type ContentTypeName = keyof ContentTypeMap;\n";
  files.set("index.ts", index);
  return files;
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const files = await renderTypes();
  if (check) {
    const stale: string[] = [];
    for (const [name, text] of files) {
      const path = join(GENERATED_DIR, name);
      if (!existsSync(path) || readFileSync(path, "utf8") !== text) stale.push(name);
    }
    const extra = existsSync(GENERATED_DIR) ? readdirSync(GENERATED_DIR).filter((f) => !files.has(f)) : [];
    if (stale.length || extra.length) {
      console.error(`generated types are stale: ${[...stale, ...extra].join(", ")}. Run: npm run gen:types`);
      process.exit(1);
    }
    console.log(`generated types are up to date (${files.size} files)`);
    return;
  }
  rmSync(GENERATED_DIR, { recursive: true, force: true });
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(GENERATED_DIR, name), text);
  console.log(`wrote ${files.size} files to ${GENERATED_DIR}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
