/** `agentbus audit checkpoint`, `audit public-key` and `audit verify --against` as an operator runs them. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditWriter, openStore, type Db } from "../../runtime/store/index.ts";
import { DATABASE_URL, dropSchema, uniqueSchema } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";
import { envelope } from "../store/fixtures.ts";

const quiet = { info() {}, warn() {}, error() {} };
const schema = uniqueSchema("cli_ckpt");
const dir = mkdtempSync(join(tmpdir(), "agentbus-cli-ckpt-"));
const env = {
  DATABASE_URL,
  AGENTBUS_DB_SCHEMA: schema,
  AGENTBUS_AUDIT_KEY_FILE: join(dir, "keys", "audit.pem"),
  AGENTBUS_AUDIT_CHECKPOINT_DIR: join(dir, "checkpoints"),
};
let db: Db;

async function fill(sessions: string[]): Promise<void> {
  const writer = new AuditWriter(db, { maxBatchRows: 4, flushIntervalMs: 1, logger: quiet });
  for (let seq = 1; seq <= 3; seq++) for (const s of sessions) writer.append({ outcome: "published", agent: "planning_agent", envelope: envelope(s, seq) });
  await writer.close();
}

beforeAll(async () => {
  db = await openStore({ databaseUrl: DATABASE_URL, schema, logger: quiet });
  await fill(["s-c1", "s-c2", "s-c3"]);
});
afterAll(async () => {
  await db?.close();
  await dropSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

describe("agentbus audit checkpoint and verify --against", () => {
  it("signs a checkpoint with a key it creates outside the database, and verifies against it", async () => {
    const r = await runCli(["audit", "checkpoint", "--json"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { size: number; files: string[]; note: string; fresh: boolean };
    expect(out).toMatchObject({ fresh: true, files: [join(dir, "checkpoints", "checkpoint-000000000003.txt"), join(dir, "checkpoints", "latest.txt")] });
    expect(out.note.split("\n")[0]).toBe(`agentbus/${schema}`);
    expect(statSync(env.AGENTBUS_AUDIT_KEY_FILE).mode & 0o777).toBe(0o600);
    const again = await runCli(["audit", "checkpoint"], env);
    expect(again.stdout).toContain("(unchanged since the last one)");

    const ok = await runCli(["audit", "verify", "--against", join(dir, "checkpoints", "latest.txt")], env);
    expect(ok.stdout).toMatch(/^✓ audit log intact: 3 chain\(s\), 9 row\(s\); commitment 3 leaves, root [0-9a-f]{16}…; consistent with the checkpoint of size 3/);
    expect(ok.code).toBe(0);
  });

  it("catches a session deleted whole and names every problem, with only the public key at hand", async () => {
    const vkey = join(dir, "audit.vkey");
    const pub = await runCli(["audit", "public-key", "--out", vkey], env);
    expect(pub.code).toBe(0);
    expect(readFileSync(vkey, "utf8")).toMatch(new RegExp(`^agentbus/${schema}\\+[0-9a-f]{8}\\+`));
    const saved = join(dir, "saved.txt");
    writeFileSync(saved, readFileSync(join(dir, "checkpoints", "latest.txt")));
    await fill(["s-c4"]);
    await db.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query(`DELETE FROM "${schema}".audit_log WHERE chain_key = 's-c2'`);
      await tx.query(`DELETE FROM "${schema}".chain_heads WHERE chain_key = 's-c2'`);
      // Sessions younger than a minute may still wait for their first audit flush; these are older.
      await tx.query(`UPDATE "${schema}".sessions SET updated_at = now() - interval '1 hour'`);
    });
    const r = await runCli(["audit", "verify", "--json", "--against", saved, "--public-key", vkey], { ...env, AGENTBUS_AUDIT_KEY_FILE: join(dir, "nowhere.pem") });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; broken: Array<{ problem: string; chainKey: string | null }> };
    expect(out.ok).toBe(false);
    expect(out.broken.map((b) => b.problem)).toEqual(expect.arrayContaining(["session_without_chain", "chain_missing", "leaf_rows_missing", "checkpoint_mismatch"]));
    const text = await runCli(["audit", "verify", "--against", saved, "--public-key", vkey], env);
    expect(text.stdout).toMatch(/✗ audit log broken: \d+ problem\(s\)/);
    expect(text.stdout).toContain("checkpoint_mismatch  global commitment");
    expect(text.stdout).toContain("session_without_chain  session s-c2");
  });

  it("refuses a checkpoint file that was altered", async () => {
    const forged = join(dir, "forged.txt");
    writeFileSync(forged, readFileSync(join(dir, "checkpoints", "latest.txt"), "utf8").replace(/\n3\n/, "\n2\n"));
    const r = await runCli(["audit", "verify", "--against", forged], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("error CHECKPOINT_SIGNATURE_INVALID");
  });
});
