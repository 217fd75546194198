/**
 * `agentbus learn --records <file> --dry-run`: the real memory and learning agents over a JSONL
 * file, in the CLI process. A planted 429 pattern comes out as the fail-fast rule in a
 * learning_report envelope that validates; every hostile line is named on stderr with its number
 * and reason and skipped; nothing reaches Postgres, Redis or the data folder; another deployment's
 * capabilities are mined the same way; unreadable paths and wrong flag combinations are clear errors.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { workflow, type StepSpec, type WorkflowRecord } from "../../eval/learning/records.ts";
import { ENVELOPE_SCHEMA_ID, schemaRegistry } from "../../runtime/schemas/registry.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import { DATABASE_URL, REDIS_URL, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";
import { runCli } from "../helpers/cli.ts";
import { ids } from "./helpers.ts";

const registry = schemaRegistry();
const dir = mkdtempSync(join(tmpdir(), "agentbus-learn-dry-"));
const dataDir = join(dir, "data");
mkdirSync(dataDir);
const prefix = uniquePrefix("learndry");
const schema = uniqueSchema("learndry");
// Real servers under names nobody else uses: afterwards, neither may hold anything of them.
const env = { REDIS_URL, DATABASE_URL, AGENTBUS_DB_SCHEMA: schema, AGENTBUS_QUEUE_PREFIX: prefix, AGENTBUS_DATA_DIR: dataDir };
const TIMEOUT = 90_000;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ok = (capability: string, extra: Partial<StepSpec> = {}): StepSpec => ({ capability, duration_ms: 100, ...extra });
const line = (r: WorkflowRecord): string => JSON.stringify(r);

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** 30 ordinary sessions and 8 whose fetch on x.org spent 3 attempts on HTTP_429 and failed. */
function planted429(): string[] {
  return [
    ...ids("bg", 30).map((id, i) => line(workflow({ session_id: id, category: "lookup", steps: [ok("fetch", { domain: `d${i % 3}.example` }), ok("extract_text")] }))),
    ...ids("rl", 8).map((id) => line(workflow({ session_id: id, category: "lookup", steps: [ok("fetch", { status: "failed", attempts: 3, error_code: "HTTP_429", domain: "x.org", recoverable: true, duration_ms: 600 }), { capability: "extract_text", status: "skipped" }] }))),
  ];
}

const valid = line(workflow({ session_id: "s-valid-one", category: "lookup", steps: [ok("fetch", { domain: "d0.example" })] }));
/** Hostile lines with the line number they get below and what stderr must say of each. */
const HOSTILE: Array<{ text: string | Buffer; says: string }> = [
  { text: "{not json", says: "not JSON:" },
  { text: valid.replace('"status":"success"', '"status":"fine"'), says: 'not a workflow_record: /status: must be one of "success", "failed", "partial"' },
  { text: valid.replace('"s-valid-one"', '"s-valid-\\u0000"'), says: "refused by the structural guards: /session_id: contains a NUL character (U+0000) at offset 8" },
  { text: Buffer.concat([Buffer.from(valid.slice(0, 20)), Buffer.from([0x00]), Buffer.from(valid.slice(20))]), says: "not JSON:" },
  { text: valid.replace('"synthetic lookup request"', '"bad \\ud800 text"'), says: "/request/text: contains a lone surrogate (U+D800) at offset 4" },
  { text: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), says: "not valid UTF-8" },
  { text: `{"pad":"${"x".repeat(1_100_000)}"}`, says: "longer than 1048576 bytes (this one has 1100010); skipped unread" },
  { text: "[1,2,3]", says: "not a JSON object (it is an array)" },
  { text: '{"__proto__":{"polluted":true}}', says: 'key "__proto__" is forbidden' },
  { text: valid.replace('"request_id":"r-s-valid-one",', '"\\u001b[31mred":1,'), says: "/\\u001b[31mred: is not an allowed field" },
];

describe("agentbus learn --records F --dry-run", () => {
  const lines = planted429();
  // Hostile lines in between, a blank one, and a CRLF ending: line numbers as a person counts them.
  const mixed: Buffer[] = [];
  const expected: Array<{ n: number; says: string }> = [];
  let n = 0;
  const push = (text: string | Buffer): void => {
    n += 1;
    mixed.push(Buffer.isBuffer(text) ? text : Buffer.from(text), Buffer.from(n === 2 ? "\r\n" : "\n"));
  };
  lines.forEach((l, i) => {
    push(l);
    const hostile = HOSTILE[i];
    if (hostile) {
      push(hostile.text);
      expected.push({ n, says: hostile.says });
    }
    if (i === 20) push("   ");
  });
  const records = file("records.jsonl", Buffer.concat(mixed));

  it("prints exactly the learning_report envelope, valid, with the fail-fast rule; names each bad line; writes nothing", async () => {
    const res = await runCli(["learn", "--records", records, "--dry-run", "--json"], env, TIMEOUT);
    expect(res.stderr).not.toContain("    at ");
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Envelope;
    expect(registry.check(ENVELOPE_SCHEMA_ID, report)).toEqual([]);
    expect(registry.check(registry.contentSchemaId("learning_report") ?? "", report.output.content)).toEqual([]);
    expect(report.agent.name).toBe("learning_agent");
    expect(report.next_agent.name).toBe("COMPLETE");
    expect(report.input.content).toMatchObject({ batch_size: 38 });
    const body = (report.output.content as { learning_report: { new_rules_proposed: Array<Record<string, unknown>> } }).learning_report;
    expect(body.new_rules_proposed).toHaveLength(1);
    expect(body.new_rules_proposed[0]).toMatchObject({
      rule_id: expect.stringMatching(/^rule_[0-9]{8}_01$/),
      target_agent: "dispatch_agent",
      priority: "high",
      pattern_key: "action_failure:fetch:HTTP_429:x.org",
      effect: { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: "x.org" } },
      evidence: { occurrences: 8 },
    });

    const bad = res.stderr.split("\n").filter((l) => /^line \d+: /.test(l));
    expect(bad).toHaveLength(HOSTILE.length);
    for (const [i, e] of expected.entries()) {
      expect(bad[i]).toMatch(new RegExp(`^line ${e.n}: `));
      expect(bad[i]).toContain(e.says);
    }
    // Raw control characters never reach the terminal.
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    for (const l of bad) expect(l).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(res.stderr).toContain(`${HOSTILE.length} line(s) skipped as invalid (and 1 blank)`);

    // Nothing written: no schema in Postgres, no key in Redis, nothing in the data folder.
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      expect((await client.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema])).rowCount).toBe(0);
    } finally {
      await client.end();
    }
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it("without --json, says what it did and shows each rule readably", async () => {
    const res = await runCli(["learn", "--records", records, "--dry-run"], env, TIMEOUT);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("nothing was written, and the proposal queue was not consulted");
    expect(res.stdout).toMatch(/batch batch_[0-9]{8}_001: 38 record\(s\), 2026-02-24T10:00:00\.200Z → 2026-02-24T10:00:00\.600Z/);
    expect(res.stdout).toMatch(/rule_[0-9]{8}_01 {2}dispatch_agent {2}priority high {2}confidence 0\.9\d/);
    expect(res.stdout).toContain('effect:      {"op":"no_retry","match":{"capability":"fetch","error_code":"HTTP_429","domain":"x.org"}}');
    expect(res.stderr).toContain("memory_agent → learning_agent: memory_summary");
  });

  it("mines another deployment's capabilities (download, extract_audio, transcribe) the same way", async () => {
    const other = [
      ...ids("good", 10).map((id) => workflow({ session_id: id, category: "transcribe", steps: [ok("download", { domain: "v.example" }), ok("extract_audio"), ok("transcribe")] })),
      ...ids("bad", 3).map((id) => workflow({ session_id: id, category: "transcribe", steps: [ok("download", { domain: "v.example" }), ok("transcribe", { status: "failed", error_code: "UNSUPPORTED_FORMAT" })] })),
      ...ids("quota", 7).map((id) => workflow({ session_id: id, category: "archive", steps: [ok("download", { status: "failed", attempts: 4, error_code: "QUOTA_EXCEEDED", domain: "q.example", recoverable: true })] })),
    ];
    const res = await runCli(["learn", "--records", file("media.jsonl", other.map(line).join("\n")), "--dry-run", "--json"], env, TIMEOUT);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Envelope;
    expect(registry.check(ENVELOPE_SCHEMA_ID, report)).toEqual([]);
    const rules = (report.output.content as { learning_report: { new_rules_proposed: Array<{ target_agent: string; effect: unknown; rule_id: string }> } }).learning_report.new_rules_proposed;
    expect(rules.map((r) => r.effect)).toEqual(
      expect.arrayContaining([
        { op: "no_retry", match: { capability: "download", error_code: "QUOTA_EXCEEDED", domain: "q.example" } },
        { op: "insert_before", capability: "transcribe", insert: "extract_audio", category: "transcribe" },
      ]),
    );
    expect(rules.map((r) => r.rule_id.slice(-3)).sort()).toEqual(rules.map((_, i) => `_0${i + 1}`));
    expect(res.stderr).toContain("0 line(s) skipped as invalid");
  });

  it("a file with no valid record is a clear error (exit 1)", async () => {
    const res = await runCli(["learn", "--records", file("junk.jsonl", "\n{nope\n\n[]\n"), "--dry-run"], env, TIMEOUT);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("line 2: not JSON");
    expect(res.stderr).toContain("line 4: not a JSON object (it is an array)");
    expect(res.stderr).toMatch(/error NO_VALID_RECORDS: .*junk\.jsonl holds no valid workflow record \(4 line\(s\): 2 invalid, 2 blank\)/);
  });
});

describe("agentbus learn: unreadable paths", () => {
  it("a missing file and a directory exit 2 with FILE_UNREADABLE naming the path and the cause", async () => {
    const missing = join(dir, "nope.jsonl");
    const gone = await runCli(["learn", "--records", missing, "--dry-run"], env, TIMEOUT);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`error FILE_UNREADABLE: cannot read records from ${missing}: no such file (ENOENT)`);
    const folder = await runCli(["learn", "--records", dir, "--dry-run", "--json"], env, TIMEOUT);
    expect(folder.code).toBe(2);
    expect(JSON.parse(folder.stdout)).toMatchObject({ ok: false, error: { code: "FILE_UNREADABLE", message: `cannot read records from ${dir}: it is a directory; give a JSONL file (one workflow_record per line)` } });
  });

  it("a file without read permission exits 2 saying so", async () => {
    const secret = file("secret.jsonl", `${valid}\n`);
    chmodSync(secret, 0o000);
    // Root reads anything: as root, the command runs as nobody (who may read the project, not the file).
    const root = process.getuid?.() === 0;
    const res = await runCli(["learn", "--records", secret, "--dry-run"], env, TIMEOUT, root ? { as: { uid: 65534, gid: 65534 } } : {});
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`error FILE_UNREADABLE: cannot read records from ${secret}: permission denied (EACCES)`);
  });
});

describe("agentbus learn: flags that do not go together", () => {
  it.each([
    [["learn"], "say what to learn from: --now (the store) or --records <file> --dry-run (a file)"],
    [["learn", "--records", "x.jsonl"], "--records needs --dry-run: records from a file are never written to the store"],
    [["learn", "--now", "--records", "x.jsonl", "--dry-run"], "--now and --records do not go together"],
    [["learn", "--dry-run"], "--dry-run needs --records <file>"],
  ])("%j is a usage error (exit 2)", async (args, message) => {
    const res = await runCli(args, env, TIMEOUT);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`error USAGE: ${message}`);
  });
});
