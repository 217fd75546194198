/** `agentbus start`: runs agent workers until SIGINT/SIGTERM, then shuts down gracefully. */
import type { Command } from "commander";
import { ConfigError } from "../../errors/index.ts";
import { Runtime } from "../../runtime.ts";
import { createLogger } from "../../log/logger.ts";
import { configFrom } from "../context.ts";

export function registerStart(program: Command): void {
  program
    .command("start")
    .description("run agent workers (all loaded agents, or a subset) until interrupted")
    .option("--agents <names>", "comma-separated agents to run here; run the rest in other processes or machines")
    .addHelpText(
      "after",
      "\nWith REDIS_URL unset, Redis at 127.0.0.1:6379 is used if it answers; otherwise a private\nredis-server is started with its data under the data folder and stopped on exit.\nSIGINT/SIGTERM: workers finish their current jobs, then exit. A second signal exits at once.",
    )
    .action(async (opts: { agents?: string }) => {
      const config = configFrom(program);
      const logger = createLogger(config.logLevel);
      const names = opts.agents?.split(",").map((s) => s.trim()).filter(Boolean);
      if (opts.agents !== undefined && (!names || names.length === 0)) throw new ConfigError("--agents needs at least one agent name");
      const runtime = await Runtime.open({ config, logger, mayStartEmbeddedRedis: true });
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          logger.warn(`${signal} again: exiting now`);
          process.exit(130);
        }
        stopping = true;
        logger.info(`${signal}: finishing jobs in progress, then stopping`);
        runtime.close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
      try {
        runtime.startAgents(names);
        await runtime.startMaintenance();
      } catch (err) {
        await runtime.close();
        throw err;
      }
      const started = names ?? runtime.agents.names();
      logger.info({ agents: started, redis: runtime.redis.url, prefix: config.queuePrefix }, `agentbus running ${started.length} agent(s): ${started.join(", ")}`);
      if (runtime.agents.broken.length > 0) logger.warn(`${runtime.agents.broken.length} agent folder(s) broken; see \`agentbus agents\``);
    });
}
