/** `agentbus demo`: a local demo site, a varied set of requests through every agent, a table of outcomes. */
import type { Command } from "commander";
import { Runtime } from "../../runtime.ts";
import { createLogger } from "../../log/logger.ts";
import { demoFetchAllow, startDemoSite } from "../../demo/site.ts";
import { demoRequests, outcomeTable, runDemo } from "../../demo/run-demo.ts";
import { compareRuns, comparisonTable, readLastRun, saveLastRun } from "../../demo/compare.ts";
import { learningSummary } from "../../demo/learn.ts";
import { learnNow } from "../../learn/now.ts";
import { rulesComponent } from "../../rules/component.ts";
import { AgentbusError } from "../../errors/index.ts";
import { configFrom } from "../context.ts";
import { portFlag, positiveIntFlag, secondsFlag } from "../flags.ts";
import { EXIT, printJson } from "../output.ts";

interface DemoOptions {
  serveOnly?: boolean;
  port?: string;
  timeout: string;
  json?: boolean;
  learn?: boolean;
  rounds?: string;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("start a local demo site (pages, hosts answering 429 for a while or always, a slow host), run varied requests through the pipeline, print the outcomes")
    .option("--serve-only", "only serve the demo site (for `agentbus start` in another terminal) until Ctrl-C")
    .option("--port <port>", "first of four ports for the demo hosts (default: free ports)")
    .option("--timeout <seconds>", "how long to wait for the sessions", "120")
    .option("--rounds <n>", "send the requests this many times (default 1; 3 with --learn, so that patterns recur)")
    .option("--learn", "then build a memory batch and run the learning agent: print the proposed rules and where to review them")
    .option("--json", "print the outcomes as JSON")
    .addHelpText(
      "after",
      "\nThe demo runs every agent in agents/ in this process, against the configured Redis and Postgres\n(or the embedded ones), with the approved rules in context/memory/, and leaves real workflow\nrecords behind for the learning loop. Each run's outcomes are kept in the data folder; the next\nrun prints a before/after table against them.\n\nThe closed loop:\n  npx agentbus demo --learn                  traffic, then learning: proposed rules\n  npx agentbus rules approve <rule_id> --as <you>   (or the review UI of `agentbus start`)\n  npx agentbus demo                          the same traffic again, with a before/after table",
    )
    .action(async (opts: DemoOptions) => {
      const port = opts.port === undefined ? undefined : portFlag("--port", opts.port);
      const timeoutS = secondsFlag("--timeout", opts.timeout);
      const rounds = roundsFlag(opts.rounds, opts.learn ? 3 : 1);
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
      const logger = createLogger(config.clientLogLevel, "agentbus", { format: config.logFormat });
      // The approved rules apply here as in `agentbus start`: that is what the before/after shows.
      const rules = rulesComponent(config, logger);
      const runtime = await Runtime.open({ config, logger, mayStartEmbeddedRedis: true, rules: rules.loader.rulesFor, components: [rules] }).catch(async (err: unknown) => {
        await site.close();
        throw err;
      });
      try {
        runtime.startAgents();
        const progress = opts.json ? undefined : (line: string): void => void process.stderr.write(`  ${line}\n`);
        const previous = await readLastRun(config.dataDir);
        const outcomes = await runDemo(runtime.requestService(), demoRequests(site, rounds), { timeoutMs: timeoutS * 1000, ...(progress ? { onProgress: progress } : {}) });
        const comparison = previous ? compareRuns(previous.outcomes, outcomes) : null;
        await saveLastRun(config.dataDir, { finished_at: new Date().toISOString(), rounds, outcomes });
        const learned = opts.learn ? await learnNow(runtime, { timeoutMs: timeoutS * 1000, ...(progress ? { onProgress: progress } : {}) }) : null;
        if (opts.json) printJson({ site: { main: site.main, busy: site.busy, limited: site.limited, slow: site.slow }, rounds, outcomes, previous_run: previous ? { finished_at: previous.finished_at, rounds: previous.rounds } : null, comparison, learning: learned });
        else {
          process.stdout.write(`\n${outcomeTable(outcomes)}\n`);
          if (previous && comparison) process.stdout.write(`Before/after: the previous demo run (finished ${previous.finished_at}, ${previous.rounds} round(s)) and this one, means per session:\n${comparisonTable(comparison)}\n`);
          if (learned) process.stdout.write(learningSummary(learned, config));
          process.stdout.write(`Follow any session with: npx agentbus trace <session_id>   (e.g. ${outcomes[0]?.session_id ?? ""})\n`);
        }
        process.exitCode = outcomes.every((o) => o.status !== "unfinished") ? EXIT.ok : EXIT.failed;
      } finally {
        await runtime.close();
        await site.close();
      }
    });
}

function roundsFlag(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = positiveIntFlag("--rounds", value);
  if (n > 20) throw new AgentbusError("USAGE", `--rounds must be at most 20, got ${value}`);
  return n;
}
