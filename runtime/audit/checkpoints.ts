/**
 * Recording checkpoints: read the global commitment's size and root, sign them, keep the note in
 * `audit_checkpoints` (history only) and export it as a file outside the database, where a later
 * `agentbus audit verify --against <file>` can hold the log to it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentbusError, CheckpointError, isAgentbusError } from "../errors/index.ts";
import { table, type Db } from "../store/db.ts";
import { openCheckpoint, signCheckpoint, type Checkpoint, type SignedCheckpoint } from "./checkpoint.ts";
import type { SigningKey } from "./keys.ts";

export interface RecordOptions {
  origin: string;
  /** Export folder: the note goes to `checkpoint-<size>.txt` and `latest.txt` there. */
  dir?: string;
  /** Also (or instead) write the note to this file. */
  out?: string;
}

export interface Recorded {
  checkpoint: SignedCheckpoint;
  /** Files written (none when nothing was appended since the last checkpoint in `dir`). */
  files: string[];
  /** False when the log had not grown since the last checkpoint exported to `dir`. */
  fresh: boolean;
}

export const LATEST = "latest.txt";

export async function recordCheckpoint(db: Db, key: SigningKey, options: RecordOptions): Promise<Recorded> {
  const tree = (await db.query<{ size: string; root: string }>(`SELECT size, root FROM ${table(db, "audit_tree")} WHERE id = 1`)).rows[0];
  if (!tree) throw new AgentbusError("AUDIT_TREE_MISSING", "the audit_tree row is gone: run `agentbus audit verify`");
  const current: Checkpoint = { origin: options.origin, size: Number(tree.size), root: tree.root };
  const previous = options.dir ? latestIn(options.dir, key) : null;
  // Never sign a state that is not an extension of the last one signed: the log would have been
  // rolled back or forked. (Verification against the previous checkpoint proves the full prefix.)
  if (previous && (previous.size > current.size || (previous.size === current.size && previous.root !== current.root))) {
    throw new CheckpointError(
      "AUDIT_ROLLBACK",
      `refusing to sign: the log (size ${current.size}) is not an extension of the last checkpoint (size ${previous.size}) in ${options.dir ?? "?"}; run \`agentbus audit verify --against ${join(options.dir ?? "", LATEST)}\``,
    );
  }
  const signed = signCheckpoint(current, key);
  const fresh = !previous || previous.size !== current.size;
  const files: string[] = [];
  if (fresh) {
    await db.query(`INSERT INTO ${table(db, "audit_checkpoints")} (origin, tree_size, root, key_id, note) VALUES ($1, $2, $3, $4, $5)`, [
      signed.origin,
      signed.size,
      signed.root,
      signed.keyId,
      signed.note,
    ]);
    if (options.dir) {
      mkdirSync(options.dir, { recursive: true });
      files.push(writeAtomically(join(options.dir, `checkpoint-${String(signed.size).padStart(12, "0")}.txt`), signed.note));
      files.push(writeAtomically(join(options.dir, LATEST), signed.note));
    }
  }
  if (options.out) files.push(writeAtomically(options.out, signed.note));
  return { checkpoint: signed, files, fresh };
}

/** The newest checkpoint exported to `dir` that carries a valid signature by `key`, or null. */
function latestIn(dir: string, key: SigningKey): Checkpoint | null {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^checkpoint-\d+\.txt$/.test(n) || n === LATEST);
  } catch {
    return null;
  }
  let best: Checkpoint | null = null;
  for (const n of names) {
    try {
      const c = openCheckpoint(readFileSync(join(dir, n), "utf8"), key);
      if (!best || c.size > best.size) best = c;
    } catch (err) {
      if (!isAgentbusError(err)) throw err; // a note signed by another key, or damaged: not ours to compare with
    }
  }
  return best;
}

function writeAtomically(file: string, text: string): string {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
  return file;
}
