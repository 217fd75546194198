/** `agentbus migrate`, `agentbus audit verify | checkpoint | public-key | prune`: the system of record. */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { openCheckpoint, type Checkpoint } from "../../audit/checkpoint.ts";
import { recordCheckpoint } from "../../audit/checkpoints.ts";
import { loadOrCreateSigningKey, loadVerifierKey, verifierKeyString, type VerifierKey } from "../../audit/keys.ts";
import { CheckpointError, ConfigError } from "../../errors/index.ts";
import { migrate } from "../../store/migrate.ts";
import { openDb } from "../../store/index.ts";
import { createLogger } from "../../log/logger.ts";
import { verifyAudit, type VerifyResult } from "../../store/verify.ts";
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
      const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema, logger: createLogger("warn", "agentbus", { format: config.logFormat }) });
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
    .description(
      "re-compute every session's hash chain, check every session has its chain, and recompute the global commitment; with --against, also that the log still holds everything a signed checkpoint committed to. Exit 0 when intact, 1 listing every problem",
    )
    .option("--session <id>", "verify one session's chain only (skips the global commitment)")
    .option("--against <checkpoint>", "a checkpoint file exported earlier (`agentbus audit checkpoint`)")
    .option("--public-key <file>", "the key to check the checkpoint's signature with (PEM, or the verifier key `audit public-key` prints); default: the signing key file")
    .option("--json", "print the result as JSON")
    .action(async (opts: { session?: string; against?: string; publicKey?: string; json?: boolean }) => {
      const config = configFrom(program);
      if (opts.against && opts.session) throw new ConfigError("--against checks the whole log; it cannot be combined with --session");
      // The checkpoint and its signature are checked before the database is even opened: only the file and the key are trusted.
      const against = opts.against ? readCheckpointFile(opts.against, opts.publicKey ? loadVerifierKey(opts.publicKey, config.auditOrigin) : loadVerifierKey(config.auditKeyFile, config.auditOrigin)) : undefined;
      if (against && against.origin !== config.auditOrigin) throw new CheckpointError("CHECKPOINT_INVALID", `the checkpoint is of log ${against.origin}, not ${config.auditOrigin} (AGENTBUS_AUDIT_ORIGIN)`);
      const result = await withStore(config, (db) =>
        verifyAudit(db, { ...(opts.session ? { sessionId: opts.session } : {}), ...(against ? { against: { size: against.size, root: against.root } } : {}) }),
      );
      if (opts.json) printJson(result);
      else process.stdout.write(describeVerify(result));
      process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
    });

  audit
    .command("checkpoint")
    .description("sign the log's current global commitment (tree size and root) with the Ed25519 key outside the database and export it as a C2SP checkpoint note")
    .option("--out <file>", "also write the checkpoint to this file")
    .option("--json", "print the result as JSON")
    .action(async (opts: { out?: string; json?: boolean }) => {
      const config = configFrom(program);
      const key = loadOrCreateSigningKey(config.auditKeyFile, config.auditOrigin);
      const recorded = await withStore(config, (db) => recordCheckpoint(db, key, { origin: config.auditOrigin, dir: config.auditCheckpointDir, ...(opts.out ? { out: resolve(opts.out) } : {}) }));
      const c = recorded.checkpoint;
      if (opts.json) printJson({ origin: c.origin, size: c.size, root: c.root, key_id: c.keyId, fresh: recorded.fresh, files: recorded.files, note: c.note });
      else {
        process.stdout.write(`✓ checkpoint of ${c.origin}: ${c.size} leaves, root ${c.root}${recorded.fresh ? "" : " (unchanged since the last one)"}\n`);
        for (const f of recorded.files) process.stdout.write(`  written to ${f}\n`);
        process.stdout.write(`  verify later with: agentbus audit verify --against <file> [--public-key <file>]\n`);
      }
    });

  audit
    .command("public-key")
    .description("print the checkpoint verifier key (C2SP signed-note form) and its PEM, to keep with the checkpoints")
    .option("--out <file>", "write the verifier key to this file")
    .option("--json", "print the result as JSON")
    .action((opts: { out?: string; json?: boolean }) => {
      const config = configFrom(program);
      const key = loadOrCreateSigningKey(config.auditKeyFile, config.auditOrigin);
      const vkey = verifierKeyString(key);
      const pem = key.publicKey.export({ type: "spki", format: "pem" }).toString();
      if (opts.out) writeFileSync(resolve(opts.out), `${vkey}\n`);
      if (opts.json) printJson({ name: key.name, verifier_key: vkey, pem, key_file: config.auditKeyFile });
      else process.stdout.write(`${vkey}\n${pem}`);
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

function readCheckpointFile(file: string, key: VerifierKey): Checkpoint {
  let note: string;
  try {
    note = readFileSync(file, "utf8");
  } catch (err) {
    throw new CheckpointError("CHECKPOINT_INVALID", `cannot read checkpoint ${file}: ${(err as Error).message}`, { cause: err });
  }
  return openCheckpoint(note, key);
}

/** One line per problem, chains first; then the commitment and checkpoint verdicts. */
export function describeVerify(result: VerifyResult): string {
  const lines: string[] = [];
  const counts = `${result.chains} chain(s), ${result.rows} row(s)${result.pruned ? `, ${result.pruned} pruned by retention` : ""}`;
  const commitment = result.commitment ? `; commitment ${result.commitment.size} leaves, root ${result.commitment.root.slice(0, 16)}…` : "";
  const checkpoint = result.checkpoint ? `; consistent with the checkpoint of size ${result.checkpoint.size}` : "";
  if (result.ok) return `✓ audit log intact: ${counts}${commitment}${checkpoint}\n`;
  lines.push(`✗ audit log broken: ${result.broken.length} problem(s) (${counts})`);
  for (const b of result.broken) {
    const where = b.chainKey === null ? "global commitment" : `session ${b.sessionId ?? b.chainKey}`;
    const at = b.id !== null ? `row ${b.id}, position ${b.seq ?? "?"}` : b.leaf !== undefined ? `leaf ${b.leaf}` : b.seq !== null ? `position ${b.seq}` : "";
    lines.push(`  ${b.problem}  ${where}${at ? ` (${at})` : ""}: ${b.message}`);
  }
  return `${lines.join("\n")}\n`;
}
