/** `agentbus start`: runs agent workers until SIGINT/SIGTERM, then shuts down gracefully. */
import type { Command } from "commander";
import { ConfigError } from "../../errors/index.ts";
import { Runtime } from "../../runtime.ts";
import { createLogger } from "../../log/logger.ts";
import { configFrom } from "../context.ts";
import { resolveApiToken, apiTokenFile } from "../../http/token.ts";
import { assertPortFree } from "../../http/server.ts";
import { reviewMount, rulesLoaderFor } from "../../review/mount.ts";

export function registerStart(program: Command): void {
  program
    .command("start")
    .description("run agent workers (all loaded agents, or a subset) until interrupted")
    .option("--agents <names>", "comma-separated agents to run here; run the rest in other processes or machines")
    .option("--http", "serve the HTTP API (default when all agents run here)")
    .option("--no-http", "do not serve the HTTP API")
    .option("--port <port>", "HTTP port (default $AGENTBUS_HTTP_PORT or 8080; 0 picks a free one)")
    .addHelpText(
      "after",
      "\nWith REDIS_URL unset, Redis at 127.0.0.1:6379 is used if it answers; otherwise a private\nredis-server is started with its data under the data folder and stopped on exit.\nSIGINT/SIGTERM: workers finish their current jobs, then exit. A second signal exits at once.",
    )
    .action(async (opts: { agents?: string; http?: boolean; port?: string }) => {
      const config = configFrom(program);
      const logger = createLogger(config.logLevel);
      const names = opts.agents?.split(",").map((s) => s.trim()).filter(Boolean);
      if (opts.agents !== undefined && (!names || names.length === 0)) throw new ConfigError("--agents needs at least one agent name");
      const serveHttp = opts.http ?? names === undefined;
      const port = opts.port === undefined ? config.httpPort : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number (0 picks a free one), got ${opts.port}`);
      // A taken port is found before anything starts, and the API listens before any worker runs:
      // a server without its API would look alive while nobody can reach it.
      if (serveHttp) await assertPortFree(config.httpHost, port);
      // Approved rules from the memory folder, re-read when files change (runtime/rules/loader.ts).
      const rules = rulesLoaderFor(config, logger);
      const runtime = await Runtime.open({ config, logger, mayStartEmbeddedRedis: true, rules: rules.loader.rulesFor });
      if (runtime.store) rules.bind(runtime.store.db);
      await rules.loader.start();
      let apiUrl: string | undefined;
      try {
        if (serveHttp) {
          const { token, source } = resolveApiToken(config.dataDir);
          const store = runtime.store;
          const mount = store ? await reviewMount({ config, db: store.db, audit: store.audit, loader: rules.loader, apiToken: token, queues: () => runtime.agents.names().map((n) => runtime.bus.queue(n)) }) : undefined;
          apiUrl = await runtime.startHttp({ token, port, ...(mount ? { mount } : {}) });
          logger.info({ url: apiUrl, token_from: source }, `HTTP API on ${apiUrl} (token: ${source})`);
        }
      } catch (err) {
        await runtime.close();
        throw err;
      }
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          logger.warn(`${signal} again: exiting now`);
          process.exit(130);
        }
        stopping = true;
        logger.info(`${signal}: finishing jobs in progress, then stopping`);
        rules.loader.close();
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
      process.stderr.write(nextSteps(apiUrl, config.dataDir));
    });
}

function nextSteps(apiUrl: string | undefined, dataDir: string): string {
  const lines = [
    "",
    "agentbus is running. Next, in another terminal:",
    "  npx agentbus demo --serve-only --port 4400 &                           a local demo site",
    '  npx agentbus submit "Summarize http://127.0.0.1:4400/pages/solar.html" --wait',
    "  npx agentbus demo                      a varied set of requests and a table of outcomes",
    "  npx agentbus trace <session_id>        the hops of a session",
    "  npx agentbus dead-letters              anything refused or failed, with reasons",
  ];
  if (apiUrl) {
    lines.push(`  curl -H "Authorization: Bearer $(cat ${apiTokenFile(dataDir)})" -H 'content-type: application/json' \\`);
    lines.push(`       -d '{"text":"What is 6*7?"}' ${apiUrl}/api/requests`);
  }
  lines.push("Ctrl-C stops it gracefully.", "");
  return lines.join("\n");
}
