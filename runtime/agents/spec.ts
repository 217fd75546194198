/** Reading an agent's markdown spec: YAML front matter (validated) + instructions body. */
import { readFileSync } from "node:fs";
import matter from "gray-matter";
import { AgentLoadError } from "../errors/index.ts";
import { AGENT_SPEC_SCHEMA_ID, type SchemaRegistry } from "../schemas/registry.ts";
import type { AgentSpec } from "../envelope/types.ts";
import { summarize } from "../errors/index.ts";

export interface ParsedSpec {
  spec: AgentSpec;
  instructions: string;
}

/** `displayPath` is how the file is named in errors (repo-relative). */
export function parseSpecFile(file: string, displayPath: string, folderName: string, registry: SchemaRegistry): ParsedSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new AgentLoadError(displayPath, `spec file is missing (every agent folder needs ${folderName}.md)`);
  }
  let parsed: matter.GrayMatterFile<string>;
  try {
    // An empty cache object per call: gray-matter caches by content otherwise, sharing parsed objects.
    parsed = matter(text, {});
  } catch (err) {
    throw new AgentLoadError(displayPath, `front matter is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const data: unknown = parsed.data;
  if (typeof data !== "object" || data === null || Object.keys(data).length === 0) {
    throw new AgentLoadError(displayPath, "has no front matter (a --- YAML block declaring name, type, accepts, emits)");
  }
  const issues = registry.check(AGENT_SPEC_SCHEMA_ID, data);
  if (issues.length > 0) throw new AgentLoadError(displayPath, `front matter is invalid: ${summarize(issues, 5)}`, { issues });
  const spec = data as AgentSpec;
  if (spec.name !== folderName) {
    throw new AgentLoadError(displayPath, `name "${spec.name}" must equal its folder name "${folderName}"`);
  }
  return { spec: { concurrency: 1, ...spec }, instructions: parsed.content.trim() };
}
