/** `agentbus start`: runs agent workers until SIGINT/SIGTERM, then shuts down gracefully. */
import type { Command } from "commander";
import { ConfigError } from "../../errors/index.ts";
import { Runtime } from "../../runtime.ts";
import { createLogger } from "../../log/logger.ts";
import { configFrom } from "../context.ts";
import { portFlag } from "../flags.ts";
import { resolveApiToken, apiTokenFile } from "../../http/token.ts";
import { httpComponent } from "../../http/component.ts";
import { agentsComponent } from "../../agents/component.ts";
import { maintenanceComponent } from "../../audit/component.ts";
import { assertPortFree } from "../../http/server.ts";
import { reviewComponent } from "../../review/component.ts";
import { guardrailComponent } from "../../review/guardrail-component.ts";
import { rulesComponent } from "../../rules/component.ts";
import { schedulesComponent } from "../../schedules/component.ts";

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
      const logger = createLogger(config.logLevel, "agentbus", { format: config.logFormat });
      const names = opts.agents?.split(",").map((s) => s.trim()).filter(Boolean);
      if (opts.agents !== undefined && (!names || names.length === 0)) throw new ConfigError("--agents needs at least one agent name");
      const serveHttp = opts.http ?? names === undefined;
      const port = opts.port === undefined ? config.httpPort : portFlag("--port", opts.port);
      // A taken port is found before anything starts, and the API listens before any worker runs:
      // a server without its API would look alive while nobody can reach it.
      if (serveHttp) await assertPortFree(config.httpHost, port);
      // Components start in this order and a failure anywhere closes everything opened so far:
      // the rules first (agents read them), the review UI before the HTTP API that mounts it, and
      // the API before any worker runs; the rollout guardrail after the review UI (every process
      // ticks it, and a slot is claimed in Redis, so it runs once; the store is always on here);
      // the schedules last (their runs need the workers' queues, and every process ticks: a slot is
      // claimed in Redis, so it is sent once).
      const apiToken = serveHttp ? resolveApiToken(config.dataDir, config.apiToken) : undefined;
      const http = apiToken ? httpComponent({ token: apiToken.token, port }) : undefined;
      const rules = rulesComponent(config, logger);
      const runtime = await Runtime.open({
        config,
        logger,
        mayStartEmbeddedRedis: true,
        rules: rules.loader.rulesFor,
        components: [rules, ...(http && apiToken ? [reviewComponent({ apiToken: apiToken.token, loader: rules.loader }), http] : []), guardrailComponent(), agentsComponent(names), maintenanceComponent(), schedulesComponent()],
      });
      const apiUrl = http?.url;
      if (apiUrl && apiToken) logger.info({ url: apiUrl, token_from: apiToken.source }, `HTTP API on ${apiUrl} (token: ${apiToken.source}); review UI on ${apiUrl}/review`);
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
    "    (this process fetches its loopback pages only if started with AGENTBUS_FETCH_ALLOW=127.0.0.0/29)",
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
