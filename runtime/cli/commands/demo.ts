/** `agentbus demo`: a local demo site, a varied set of requests through every agent, a table of outcomes. */
import type { Command } from "commander";
import { Runtime } from "../../runtime.ts";
import { createLogger } from "../../log/logger.ts";
import { demoFetchAllow, startDemoSite } from "../../demo/site.ts";
import { demoRequests, outcomeTable, runDemo } from "../../demo/run-demo.ts";
import { configFrom } from "../context.ts";
import { portFlag, secondsFlag } from "../flags.ts";
import { EXIT, printJson } from "../output.ts";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("start a local demo site (pages, a host answering 429, a slow host), run varied requests through the pipeline, print the outcomes")
    .option("--serve-only", "only serve the demo site (for `agentbus start` in another terminal) until Ctrl-C")
    .option("--port <port>", "first of four ports for the demo hosts (default: free ports)")
    .option("--timeout <seconds>", "how long to wait for the sessions", "120")
    .option("--json", "print the outcomes as JSON")
    .addHelpText("after", "\nThe demo runs every agent in agents/ in this process, against the configured Redis and Postgres\n(or the embedded ones), and leaves real workflow records behind for the learning loop.")
    .action(async (opts: { serveOnly?: boolean; port?: string; timeout: string; json?: boolean }) => {
      const port = opts.port === undefined ? undefined : portFlag("--port", opts.port);
      const timeoutS = secondsFlag("--timeout", opts.timeout);
      const site = await startDemoSite(port === undefined ? {} : { port });
      if (opts.serveOnly) {
        process.stdout.write(`demo site:\n  ${site.main}/pages/solar.html (also solar-update, wind, budget, missing → 404)\n  ${site.busy}/pages/busy.html (429 twice, then the page)\n  ${site.limited}/pages/always-busy.html (429 always)\n  ${site.slow}/pages/slow.html (slow)\nCtrl-C stops it.\n`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await site.close();
        return;
      }
      // The demo site is on loopback, which fetch refuses unless allowed: allow exactly its ports.
      const base = configFrom(program);
      const config = { ...base, fetchAllow: [...base.fetchAllow, ...demoFetchAllow(site)] };
      const runtime = await Runtime.open({ config, logger: createLogger(config.clientLogLevel, "agentbus", { format: config.logFormat }), mayStartEmbeddedRedis: true });
      try {
        runtime.startAgents();
        const requests = demoRequests(site);
        const outcomes = await runDemo(runtime.requestService(), requests, {
          timeoutMs: timeoutS * 1000,
          ...(opts.json ? {} : { onProgress: (line: string) => process.stderr.write(`  ${line}\n`) }),
        });
        if (opts.json) printJson({ site, outcomes });
        else {
          process.stdout.write(`\n${outcomeTable(outcomes)}\n`);
          process.stdout.write(`Follow any session with: npx agentbus trace <session_id>   (e.g. ${outcomes[0]?.session_id ?? ""})\n`);
        }
        process.exitCode = outcomes.every((o) => o.status !== "unfinished") ? EXIT.ok : EXIT.failed;
      } finally {
        await runtime.close();
        await site.close();
      }
    });
}
