/** `agentbus schedules`: the agents with a cron schedule, and when they next run, in their zone. */
import type { Command } from "commander";
import { DateTime } from "luxon";
import { systemClock } from "../../envelope/clock.ts";
import { agentSchedules, nextSlots } from "../../schedules/slots.ts";
import { agentsFrom, configFrom } from "../context.ts";
import { EXIT, printJson } from "../output.ts";

const RUNS = 3;

export function registerSchedules(program: Command): void {
  program
    .command("schedules")
    .description(`list the agents with a schedule: cron, time zone and the next ${RUNS} runs in local time`)
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }) => {
      const config = configFrom(program);
      const agents = await agentsFrom(config);
      const now = systemClock.now();
      const rows = agentSchedules(agents.list(), config.timezone).map((e) => ({
        agent: e.agent,
        cron: e.cron,
        timezone: e.timezone,
        content_type: e.content_type,
        next_runs: nextSlots(e, now, RUNS).map((ms) => DateTime.fromMillis(ms, { zone: e.timezone }).toISO({ suppressMilliseconds: true }) ?? new Date(ms).toISOString()),
      }));
      if (opts.json) {
        printJson({ timezone: config.timezone, schedules: rows });
      } else if (rows.length === 0) {
        process.stdout.write(`no agent in ${config.agentsDir} has a schedule\n`);
      } else {
        for (const r of rows) {
          process.stdout.write(`${r.agent}  ${r.cron}  (${r.timezone}, sends ${r.content_type})\n`);
          for (const run of r.next_runs) process.stdout.write(`  next ${run}\n`);
        }
      }
      process.exitCode = EXIT.ok;
    });
}
