/** `agentbus migrate`, `agentbus audit verify`, `agentbus audit prune`: the system of record. */
import type { Command } from "commander";
import { migrate } from "../../store/migrate.ts";
import { openDb } from "../../store/index.ts";
import { createLogger } from "../../log/logger.ts";
import { verifyAudit } from "../../store/verify.ts";
import { applyRetention, retentionCutoff } from "../../store/retention.ts";
import { configFrom, withStore } from "../context.ts";
import { EXIT, printJson } from "../output.ts";

export function registerAudit(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations (start-up does this too); safe to run twice or concurrently")
    .option("--json", "print the result as JSON")
    .action(async (opts: { json?: boolean }) => {
      const config = configFrom(program);
      const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, logger: createLogger("warn") });
      try {
        const result = await migrate(db);
        const applied = result.applied.map((m) => m.name);
        if (opts.json) printJson({ schema: config.dbSchema, applied, unknown: result.unknown });
        else {
          process.stdout.write(`✓ schema ${config.dbSchema} is up to date; applied now: ${applied.length ? applied.join(", ") : "none"}\n`);
          if (result.unknown.length) process.stdout.write(`! the database has migrations this build does not know: ${result.unknown.join(", ")}\n`);
        }
      } finally {
        await db.close();
      }
    });

  const audit = program.command("audit").description("verify and maintain the append-only audit log");

  audit
    .command("verify")
    .description("re-compute every session's hash chain; exit 0 when intact, 1 naming the first broken row")
    .option("--session <id>", "verify one session's chain only")
    .option("--json", "print the result as JSON")
    .action(async (opts: { session?: string; json?: boolean }) => {
      const config = configFrom(program);
      const result = await withStore(config, (db) => verifyAudit(db, opts.session ? { sessionId: opts.session } : {}));
      if (opts.json) printJson(result);
      else if (result.ok) {
        process.stdout.write(`✓ audit log intact: ${result.chains} chain(s), ${result.rows} row(s)${result.pruned ? `, ${result.pruned} pruned by retention` : ""}\n`);
      } else {
        const b = result.broken;
        process.stdout.write(
          `✗ audit log broken at row ${b.id ?? "(none left)"} (session ${b.sessionId ?? b.chainKey}, position ${b.seq ?? "?"}): ${b.problem}\n  ${b.message}\n`,
        );
      }
      process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
    });

  audit
    .command("prune")
    .description("apply retention now: delivered-message rows older than the period become hash stubs")
    .option("--older-than <duration>", "ISO-8601 duration (default $AGENTBUS_AUDIT_RETENTION or P30D)")
    .option("--json", "print the result as JSON")
    .action(async (opts: { olderThan?: string; json?: boolean }) => {
      const config = configFrom(program);
      const cutoff = retentionCutoff(opts.olderThan ?? config.auditRetention);
      const { pruned } = await withStore(config, (db) => applyRetention(db, { olderThan: cutoff }));
      if (opts.json) printJson({ pruned, cutoff: cutoff.toISOString() });
      else process.stdout.write(`✓ pruned ${pruned} delivered row(s) recorded before ${cutoff.toISOString()}; chains still verify\n`);
    });
}
