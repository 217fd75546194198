import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { DATABASE_URL } from "../helpers/pg.ts";
import { propose, proposedRule, startReview, type ReviewHarness } from "./helpers.ts";

let h: ReviewHarness;
beforeAll(async () => {
  h = await startReview("review_cli");
  await propose(h, [proposedRule(1), proposedRule(2)]);
});
afterAll(async () => h?.teardown());

const cli = (args: string[], stdin: string) => runCli(args, { DATABASE_URL, AGENTBUS_DB_SCHEMA: h.pg.schema, AGENTBUS_MEMORY_DIR: h.memory }, 60_000, { stdin });

const PASSWORD = "a long and unguessable passphrase";

describe("agentbus admin and rules", () => {
  it("creates an account from a password on stdin, refusing a weak one", async () => {
    const weak = await cli(["admin", "create", "carol", "--role", "reviewer"], "short\n");
    expect(weak.code).not.toBe(0);
    expect(weak.stderr).toMatch(/at least 12/);
    const ok = await cli(["admin", "create", "carol", "--role", "reviewer"], `${PASSWORD}\n`);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toMatch(/created reviewer carol/);
  }, 60_000);

  it("lists, approves with the same checks (wrong password refused), and retires", async () => {
    const list = await cli(["rules", "list", "--state", "pending"], "");
    expect(list.stdout).toContain("rule_20261121_01");
    const wrong = await cli(["rules", "approve", "rule_20261121_01", "--as", "carol"], "not the password at all\n");
    expect(wrong.code).not.toBe(0);
    const ok = await cli(["rules", "approve", "rule_20261121_01", "--as", "carol", "--json"], `${PASSWORD}\n`);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { decision: { action: string; actor: string } }).decision).toMatchObject({ action: "approve", actor: "carol" });
    expect(existsSync(join(h.memory, "dispatch_agent", "rule_20261121_01.md"))).toBe(true);
    const retire = await cli(["rules", "retire", "rule_20261121_01", "--as", "carol", "--reason", "done"], `${PASSWORD}\n`);
    expect(retire.stdout).toMatch(/retire rule_20261121_01/);
    expect(existsSync(join(h.memory, "dispatch_agent", "rule_20261121_01.md"))).toBe(false);
    const show = await cli(["rules", "show", "rule_20261121_01"], "");
    expect(show.stdout).toMatch(/retire\s+by carol/);
  }, 90_000);
});
