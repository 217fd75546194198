/** What CLI commands share: configuration from env + global flags, agents, and a runtime on demand. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig, type RuntimeConfig } from "../config/config.ts";
import { loadAgents, type AgentRegistry } from "../agents/loader.ts";
import { schemaRegistry } from "../schemas/registry.ts";
import { Runtime } from "../runtime.ts";
import { createLogger } from "../log/logger.ts";
import { openStore } from "../store/index.ts";
import type { Db } from "../store/db.ts";

export interface GlobalFlags {
  agentsDir?: string;
  root?: string;
  prefix?: string;
}

export function configFrom(program: Command): RuntimeConfig {
  const flags = program.opts<GlobalFlags>();
  return loadConfig(undefined, {
    // Paths given on the command line are relative to where the command runs.
    ...(flags.root ? { root: resolve(flags.root) } : {}),
    ...(flags.agentsDir ? { agentsDir: resolve(flags.agentsDir) } : {}),
    ...(flags.prefix ? { queuePrefix: flags.prefix } : {}),
  });
}

export async function agentsFrom(config: RuntimeConfig): Promise<AgentRegistry> {
  return loadAgents({ agentsDir: config.agentsDir, root: config.root, registry: schemaRegistry(), externalSources: config.externalSources });
}

/** A runtime for client commands: finds Redis but never starts one. Quiet unless LOG_LEVEL says. */
export async function clientRuntime(config: RuntimeConfig): Promise<Runtime> {
  return Runtime.open({ config, logger: createLogger(config.clientLogLevel, "agentbus", { format: config.logFormat }), mayStartEmbeddedRedis: false });
}

/** The database alone, migrated (DATABASE_URL, or the embedded one under the data folder). */
export async function storeFrom(config: RuntimeConfig): Promise<Db> {
  return openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, logger: createLogger(config.clientLogLevel, "agentbus", { format: config.logFormat }) });
}

/** Runs `fn` with the database and always closes it. */
export async function withStore<T>(config: RuntimeConfig, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await storeFrom(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
