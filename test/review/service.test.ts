import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../runtime/store/verify.ts";
import { contentHash } from "../../runtime/rules/content.ts";
import { RULES_CHAIN } from "../../runtime/store/audit-hash.ts";
import { ALICE, BOB, LEARNER, VIEWER, propose, proposedRule, startReview, type ReviewHarness } from "./helpers.ts";

let h: ReviewHarness;
let ids: string[];
beforeAll(async () => {
  h = await startReview("review_svc");
  ids = await propose(h, [1, 2, 3, 4, 5, 6].map((n) => proposedRule(n)));
});
afterAll(async () => h?.teardown());

const hashOf = async (id: string): Promise<string> => (await h.service.get(id)).reviewable_hash;
const auditRows = async (): Promise<number> => Number((await h.pg.db.query<{ n: string }>(`SELECT count(*) AS n FROM "${h.pg.schema}".audit_log WHERE chain_key = $1`, [RULES_CHAIN])).rows[0]!.n);

describe("review decisions", () => {
  it("approves a pending rule: writes the file, one decision, one audit entry with the file's hash", async () => {
    const id = ids[0]!;
    const before = await auditRows();
    const r = await h.service.approve(ALICE, id, { content_hash: await hashOf(id) });
    expect(r.replayed).toBe(false);
    expect(r.decision.action).toBe("approve");
    expect(r.decision.file_path).toBe(`context/memory/dispatch_agent/${id}.md`);
    const text = await readFile(join(h.memory, "dispatch_agent", `${id}.md`), "utf8");
    expect(text).toContain(`approved_by: "alice"`);
    expect(text).toContain(`content_hash: "${await hashOf(id)}"`);
    const detail = await h.service.get(id);
    expect(detail.state).toBe("approved");
    expect(detail.active_version).toBe(1);
    expect(await auditRows()).toBe(before + 1);
    const row = (await h.pg.db.query<{ envelope: { file_sha256: string } }>(`SELECT envelope FROM "${h.pg.schema}".audit_log WHERE chain_key = $1 ORDER BY seq_in_chain DESC LIMIT 1`, [RULES_CHAIN])).rows[0]!;
    expect(row.envelope.file_sha256).toBe(r.decision.file_sha256);
  });

  it("is idempotent: the same approval twice is one decision and one audit entry", async () => {
    const id = ids[0]!;
    const before = await auditRows();
    const first = (await h.service.get(id)).decisions.length;
    const again = await h.service.approve(ALICE, id, { content_hash: await hashOf(id) });
    expect(again.replayed).toBe(true);
    expect((await h.service.get(id)).decisions.length).toBe(first);
    expect(await auditRows()).toBe(before);
  });

  it("never lets the learning agent (the proposer) or a viewer approve", async () => {
    const id = ids[1]!;
    await expect(h.service.approve(LEARNER, id, { content_hash: await hashOf(id) })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(h.service.approve(VIEWER, id, { content_hash: await hashOf(id) })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await h.service.get(id)).state).toBe("pending");
    expect(await readdir(join(h.memory, "dispatch_agent"))).not.toContain(`${id}.md`);
  });

  it("binds an approval to the exact content: a stale hash is refused", async () => {
    const id = ids[1]!;
    await expect(h.service.approve(ALICE, id, { content_hash: "0".repeat(64) })).rejects.toMatchObject({ code: "RULE_CHANGED" });
    const old = await hashOf(id);
    await h.service.edit(BOB, id, { fields: { instruction: "Do not retry at all." }, based_on_hash: old });
    await expect(h.service.approve(ALICE, id, { content_hash: old })).rejects.toMatchObject({ code: "RULE_CHANGED" });
    const r = await h.service.approve(ALICE, id, { content_hash: await hashOf(id) });
    expect(r.decision.version).toBe(1);
    expect(await readFile(join(h.memory, "dispatch_agent", `${id}.md`), "utf8")).toContain("Do not retry at all.");
  });

  it("editing an approved rule makes version 2 that needs its own approval; the file keeps v1 until then", async () => {
    const id = ids[0]!;
    const path = join(h.memory, "dispatch_agent", `${id}.md`);
    const v1 = await readFile(path, "utf8");
    const e = await h.service.edit(BOB, id, { fields: { rationale: "Edited rationale." }, based_on_hash: await hashOf(id) });
    expect(e.decision.action).toBe("edit");
    expect(e.decision.version).toBe(2);
    expect(await readFile(path, "utf8")).toBe(v1);
    const d = await h.service.get(id);
    expect(d.has_draft).toBe(true);
    expect(d.active_version).toBe(1);
    await h.service.approve(ALICE, id, { content_hash: d.reviewable_hash });
    expect((await h.service.get(id)).active_version).toBe(2);
    expect(await readFile(path, "utf8")).toContain("Edited rationale.");
  });

  it("edit-then-approve in one step; rolling back to version 1 is one action with a new version", async () => {
    const id = ids[2]!;
    await h.service.approve(ALICE, id, { content_hash: await hashOf(id) });
    const v1hash = await hashOf(id);
    const r = await h.service.edit(ALICE, id, { fields: { instruction: "v2 text" }, based_on_hash: v1hash, approve: true });
    expect(r.decision.action).toBe("approve");
    expect(r.decision.version).toBe(2);
    const rb = await h.service.rollback(BOB, id, { to_version: 1, reason: "v2 made things worse" });
    expect(rb.decision.action).toBe("rollback");
    expect(rb.decision.version).toBe(3);
    expect(rb.decision.content_hash).toBe(v1hash);
    const text = await readFile(join(h.memory, "dispatch_agent", `${id}.md`), "utf8");
    expect(text).toContain(`version: 3`);
    expect(text).not.toContain("v2 text");
    expect((await h.service.rollback(BOB, id, { to_version: 1, reason: "again" })).replayed).toBe(true);
    await expect(h.service.rollback(BOB, id, { to_version: 9, reason: "x" })).rejects.toMatchObject({ code: "RULE_STATE" });
  });

  it("rejects with a reason (idempotent), and a rejected rule cannot be approved or get a file", async () => {
    const id = ids[3]!;
    await expect(h.service.reject(ALICE, id, { reason: " " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const r = await h.service.reject(ALICE, id, { reason: "too broad" });
    expect(r.decision.reason).toBe("too broad");
    expect((await h.service.reject(ALICE, id, { reason: "too broad" })).replayed).toBe(true);
    await expect(h.service.approve(ALICE, id, { content_hash: await hashOf(id) })).rejects.toMatchObject({ code: "RULE_STATE" });
    expect(await readdir(join(h.memory, "dispatch_agent"))).not.toContain(`${id}.md`);
  });

  it("retires: the file is removed; a retired rule can be rolled back to restore it", async () => {
    const id = ids[4]!;
    await h.service.approve(ALICE, id, { content_hash: await hashOf(id), rollout_percent: 10 });
    expect(await readFile(join(h.memory, "dispatch_agent", `${id}.md`), "utf8")).toContain("rollout_percent: 10");
    await h.service.retire(ALICE, id, { reason: "no longer needed" });
    expect(await readdir(join(h.memory, "dispatch_agent"))).not.toContain(`${id}.md`);
    expect((await h.service.retire(ALICE, id, { reason: "no longer needed" })).replayed).toBe(true);
    await expect(h.service.approve(ALICE, id, { content_hash: await hashOf(id) })).rejects.toMatchObject({ code: "RULE_STATE" });
    await h.service.rollback(ALICE, id, { to_version: 1, reason: "needed after all" });
    expect((await h.service.get(id)).state).toBe("approved");
  });

  it("promotes a gradual rollout to everyone (a recorded decision) and refuses bad shares", async () => {
    const id = ids[4]!;
    await expect(h.service.promote(ALICE, id, { rollout_percent: 0 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const r = await h.service.promote(ALICE, id, { rollout_percent: 100 });
    expect(r.decision.action).toBe("promote");
    expect(await readFile(join(h.memory, "dispatch_agent", `${id}.md`), "utf8")).not.toContain("rollout_percent");
  });

  it("an edit that breaks the schema is refused with a reason", async () => {
    const id = ids[5]!;
    await expect(h.service.edit(ALICE, id, { fields: { instruction: "" }, based_on_hash: await hashOf(id) })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("records the loader's view: approvedFiles has each approved file's sha256", async () => {
    const files = await h.service.approvedFiles();
    expect(files.get(`dispatch_agent/${ids[0]}.md`)).toMatch(/^[a-f0-9]{64}$/);
    expect(files.has(`dispatch_agent/${ids[3]}.md`)).toBe(false);
  });

  it("the audit log, rules chain included, still verifies (chains and global commitment)", async () => {
    await h.audit.flush();
    const v = await verifyAudit(h.pg.db);
    expect(v.broken).toEqual([]);
    expect(v.ok).toBe(true);
    expect(await auditRows()).toBeGreaterThan(5);
  });

  it("tampering with a rules-chain audit row is caught by verify", async () => {
    await h.pg.db.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query(`UPDATE "${h.pg.schema}".audit_log SET envelope = jsonb_set(envelope, '{actor}', '"mallory"') WHERE chain_key = $1 AND seq_in_chain = 1`, [RULES_CHAIN]);
    });
    const v = await verifyAudit(h.pg.db);
    expect(v.ok).toBe(false);
  });

  it("the content hash covers text and effect", () => {
    const base = { rule_id: "rule_20261120_01", target_agent: "dispatch_agent", trigger_condition: "a", instruction: "b", rationale: "c" };
    expect(contentHash(base)).not.toBe(contentHash({ ...base, instruction: "b " }));
    expect(contentHash(base)).not.toBe(contentHash({ ...base, effect: { op: "dedupe", capability: "fetch" } }));
  });
});
