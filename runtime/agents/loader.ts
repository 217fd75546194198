/**
 * Discovers agents/<name>/ folders and loads each as a plugin: spec, governance files, worker.
 * A broken folder is reported with the file and the problem and does not stop the others.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { AgentLoadError, isAgentbusError } from "../errors/index.ts";
import type { SchemaRegistry } from "../schemas/registry.ts";
import type { AgentSpec } from "../envelope/types.ts";
import type { RouteBook } from "../envelope/validate.ts";
import { abbreviate } from "../envelope/ids.ts";
import type { AgentHandler, GovernanceDoc } from "./handler.ts";
import { parseSpecFile } from "./spec.ts";

export interface LoadedAgent {
  name: string;
  spec: AgentSpec;
  instructions: string;
  abbr: string;
  /** Repo-relative path of the spec file. */
  specPath: string;
  governance: GovernanceDoc[];
  handler: AgentHandler;
}

export interface BrokenAgent {
  folder: string;
  file: string;
  error: string;
}

export interface LoadOptions {
  agentsDir: string;
  /** Deployment root; governance paths and display paths are relative to it. */
  root: string;
  registry: SchemaRegistry;
  externalSources: readonly string[];
}

const WORKER_FILES = ["worker.ts", "worker.js", "worker.mjs"];

export class AgentRegistry implements RouteBook {
  private readonly byName = new Map<string, LoadedAgent>();
  constructor(
    agents: LoadedAgent[],
    readonly broken: BrokenAgent[],
    private readonly external: ReadonlySet<string>,
  ) {
    for (const a of agents) this.byName.set(a.name, a);
  }
  spec(name: string): AgentSpec | undefined {
    return this.byName.get(name)?.spec;
  }
  get(name: string): LoadedAgent | undefined {
    return this.byName.get(name);
  }
  isExternalSource(name: string): boolean {
    return this.external.has(name) && !this.byName.has(name);
  }
  list(): LoadedAgent[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
  names(): string[] {
    return this.list().map((a) => a.name);
  }
}

export async function loadAgents(options: LoadOptions): Promise<AgentRegistry> {
  const loaded: LoadedAgent[] = [];
  const broken: BrokenAgent[] = [];
  const display = (p: string): string => relative(options.root, p).split(sep).join("/");
  if (!existsSync(options.agentsDir)) {
    return new AgentRegistry([], [{ folder: display(options.agentsDir), file: display(options.agentsDir), error: "agents folder does not exist" }], new Set(options.externalSources));
  }
  for (const folder of readdirSync(options.agentsDir).sort()) {
    const dir = join(options.agentsDir, folder);
    if (folder.startsWith(".") || folder.startsWith("_") || !statSync(dir).isDirectory()) continue;
    try {
      loaded.push(await loadAgentFolder(dir, folder, options, display));
    } catch (err) {
      const file = err instanceof AgentLoadError ? err.file : display(dir);
      const message = err instanceof AgentLoadError ? err.message.slice(file.length + 2) : (err as Error).message;
      broken.push({ folder, file, error: message });
    }
  }
  return new AgentRegistry(loaded, broken, new Set(options.externalSources));
}

async function loadAgentFolder(dir: string, folder: string, options: LoadOptions, display: (p: string) => string): Promise<LoadedAgent> {
  const specFile = join(dir, `${folder}.md`);
  const specPath = display(specFile);
  const { spec, instructions } = parseSpecFile(specFile, specPath, folder, options.registry);

  for (const type of [...spec.accepts.content_types, ...spec.emits.content_types]) {
    if (!options.registry.hasContentType(type)) {
      throw new AgentLoadError(specPath, `content type "${type}" is not registered (known: ${options.registry.contentTypeNames().join(", ")})`);
    }
  }
  const governance: GovernanceDoc[] = [];
  for (const path of spec.governance ?? []) {
    const full = join(options.root, path);
    if (!existsSync(full)) throw new AgentLoadError(specPath, `governance file ${path} does not exist`);
    governance.push({ path, content: readFileSync(full, "utf8") });
  }

  const workerFile = WORKER_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!workerFile) throw new AgentLoadError(display(join(dir, "worker.ts")), "worker file is missing");
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(workerFile).href)) as Record<string, unknown>;
  } catch (err) {
    if (isAgentbusError(err)) throw err;
    throw new AgentLoadError(display(workerFile), `worker failed to import: ${(err as Error).message}`, { cause: err });
  }
  const handler = mod.handler ?? mod.default;
  if (typeof handler !== "function") {
    throw new AgentLoadError(display(workerFile), "must export a handler function (`export const handler = defineHandler(...)`)");
  }
  return {
    name: spec.name,
    spec,
    instructions,
    abbr: spec.abbr ?? abbreviate(spec.name),
    specPath,
    governance,
    handler: handler as AgentHandler,
  };
}
