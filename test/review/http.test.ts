import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeHtml, revealInvisible, showText } from "../../runtime/review/escape.ts";
import { hashPassword, verifyPassword, weakPassword } from "../../runtime/review/auth.ts";
import { runGuardrails } from "../../runtime/review/guardrail.ts";
import { estimateEffect } from "../../runtime/review/impact.ts";
import { PASSWORD, startApp } from "./app.ts";
import { ALICE, propose, proposedRule, record, startReview, type ReviewHarness } from "./helpers.ts";

let h: ReviewHarness;
let app: Awaited<ReturnType<typeof startApp>>;
beforeAll(async () => {
  h = await startReview("review_http");
  app = await startApp(h, { loginLimits: { perIp: 1000, perAccount: 3 } });
  await app.accounts.create("alice", "reviewer", PASSWORD);
  await app.accounts.create("vera", "viewer", PASSWORD);
  await propose(h, [1, 2, 3, 4].map((n) => proposedRule(n)));
});
afterAll(async () => {
  await app?.close();
  await h?.teardown();
});

async function login(name: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${app.url}/api/rules/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, password: PASSWORD }) });
  expect(res.status).toBe(200);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  return { cookie, csrf: ((await res.json()) as { csrf_token: string }).csrf_token };
}

describe("escaping untrusted text", () => {
  it.each([
    ["<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"],
    [`" onmouseover='x' \``, "&quot; onmouseover=&#39;x&#39; &#96;"],
    ["a&amp;b", "a&amp;amp;b"],
  ])("escapes %s", (input, out) => expect(escapeHtml(input)).toBe(out));

  it("makes zero-width, bidi, control, lone surrogate and tag characters visible", () => {
    expect(revealInvisible("a\u200bb\u202ec\u0000d\u0007\ud800e\u{E0041}f\uFEFF")).toBe("a⟨U+200B⟩b⟨U+202E⟩c⟨U+0000⟩d⟨U+0007⟩⟨U+D800⟩e⟨U+E0041⟩f⟨U+FEFF⟩");
    expect(revealInvisible("line\nand\ttab")).toBe("line\nand\ttab");
    // A literal marker in the text cannot pass for a revealed character.
    expect(revealInvisible("⟨U+200B⟩")).toBe("⟨U+27E8⟩U+200B⟩");
    expect(showText("<i>\u200b</i>")).toBe('&lt;i&gt;<span class="cc" title="invisible character U+200B">⟨U+200B⟩</span>&lt;/i&gt;');
  });
});

describe("accounts", () => {
  it("hashes with scrypt and a per-account salt; verifies only the right password", async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, a)).toBe(false);
  });

  it("refuses weak passwords and the proposer's name", async () => {
    expect(weakPassword("short", "bob")).toMatch(/12/);
    expect(weakPassword("aaaaaaaaaaaaaaaa", "bob")).toMatch(/different/);
    expect(weakPassword("password-1234567", "bob")).toMatch(/commonly/);
    await expect(app.accounts.create("learning_agent", "reviewer", PASSWORD)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(app.accounts.create("alice", "reviewer", PASSWORD)).rejects.toMatchObject({ code: "ACCOUNT_EXISTS" });
  });
});

describe("HTTP routes", () => {
  it("sets secure-by-default headers and a strict CSP", async () => {
    const res = await fetch(`${app.url}/review/login`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it("refuses the API without credentials; the bearer token reads but never decides", async () => {
    expect((await fetch(`${app.url}/api/rules`)).status).toBe(401);
    const read = await fetch(`${app.url}/api/rules?state=pending`, { headers: { authorization: "Bearer test-token-0123456789" } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { rules: unknown[] }).rules.length).toBe(4);
    const write = await fetch(`${app.url}/api/rules/rule_20261121_01/reject`, { method: "POST", headers: { authorization: "Bearer test-token-0123456789", "content-type": "application/json" }, body: '{"reason":"x"}' });
    expect(write.status).toBe(401);
  });

  it("decides through the JSON API with a session and its CSRF header; without it, 403", async () => {
    const s = await login("alice");
    const hash = (await h.service.get("rule_20261121_01")).reviewable_hash;
    const bad = await fetch(`${app.url}/api/rules/rule_20261121_01/approve`, { method: "POST", headers: { cookie: s.cookie, "content-type": "application/json" }, body: JSON.stringify({ content_hash: hash }) });
    expect(bad.status).toBe(403);
    const wrong = await fetch(`${app.url}/api/rules/rule_20261121_01/approve`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": "x".repeat(43), "content-type": "application/json" }, body: JSON.stringify({ content_hash: hash }) });
    expect(wrong.status).toBe(403);
    const ok = await fetch(`${app.url}/api/rules/rule_20261121_01/approve`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json" }, body: JSON.stringify({ content_hash: hash }) });
    expect(ok.status).toBe(201);
    const again = await fetch(`${app.url}/api/rules/rule_20261121_01/approve`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json" }, body: JSON.stringify({ content_hash: hash }) });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { replayed: boolean }).replayed).toBe(true);
    const stale = await fetch(`${app.url}/api/rules/rule_20261121_02/approve`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json" }, body: JSON.stringify({ content_hash: "0".repeat(64) }) });
    expect(stale.status).toBe(409);
  });

  it("a viewer reads but cannot decide", async () => {
    const s = await login("vera");
    const hash = (await h.service.get("rule_20261121_02")).reviewable_hash;
    const res = await fetch(`${app.url}/api/rules/rule_20261121_02/approve`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json" }, body: JSON.stringify({ content_hash: hash }) });
    expect(res.status).toBe(403);
  });

  it("pending and rejected rules never reach the agents; approved ones do", async () => {
    await h.service.reject(ALICE, "rule_20261121_03", { reason: "no" });
    await app.loader.refresh();
    expect(app.loader.rulesFor("dispatch_agent").map((r) => r.rule_id)).toEqual(["rule_20261121_01"]);
  });

  it("rate-limits failed logins per account", async () => {
    const attempt = () => fetch(`${app.url}/api/rules/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "vera", password: "wrong password here" }) });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await attempt()).status);
    expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
    expect(codes.slice(3)).toEqual([429, 429]);
  });
});

describe("estimate and guardrail", () => {
  it("replays a no_retry rule: attempts-1 per matching failed task, risk for tasks that recovered", async () => {
    await record(h, "s-e1", [{ capability: "fetch", status: "failed", attempts: 3, error_code: "HTTP_429", domain: "site4.example", duration_ms: 6000 }]);
    await record(h, "s-e2", [{ capability: "fetch", status: "success", attempts: 2, domain: "site4.example", duration_ms: 1000 }]);
    await record(h, "s-e3", [{ capability: "fetch", status: "failed", attempts: 3, error_code: "HTTP_429", domain: "other.example", duration_ms: 6000 }]);
    const e = await estimateEffect(h.pg.db, { op: "no_retry", match: { capability: "fetch", error_code: "HTTP_429", domain: "site4.example" } });
    expect(e).toMatchObject({ sessions_touched: 2, attempts_saved: 2, failures_risked: 1 });
    expect(e.minutes_saved).toBeCloseTo(4000 / 60_000, 2);
  });

  it("retires a rolled-out rule whose sessions fail more than those without it, with the reason recorded", async () => {
    const id = "rule_20261121_04";
    await h.service.approve(ALICE, id, { content_hash: (await h.service.get(id)).reviewable_hash, rollout_percent: 10 });
    const at = new Date(h.clock.now() + 60_000).toISOString();
    for (let i = 0; i < 5; i++) {
      await record(h, `s-with-${i}`, [{ capability: "fetch", status: "failed", attempts: 1, domain: "site4.example" }], { at, rules: [id] });
      await record(h, `s-without-${i}`, [{ capability: "fetch", status: "success", attempts: 1, domain: "site4.example" }], { at });
    }
    const out = await runGuardrails(h.pg.db, h.service, { minSessions: 5 });
    const mine = out.find((o) => o.rule_id === id)!;
    expect(mine.retired).toBe(true);
    const d = await h.service.get(id);
    expect(d.state).toBe("retired");
    expect(d.decisions.at(-1)).toMatchObject({ action: "auto_retire", actor: "guardrail" });
    expect(d.decisions.at(-1)?.reason).toMatch(/failure rate with the rule 100.0% \(5\/5\)/);
  });

  it("a rule that cannot be judged does not stop the others being checked", async () => {
    const [broken, judged] = await propose(h, [proposedRule(8), proposedRule(9)], "batch_20261120_002");
    for (const id of [broken!, judged!]) await h.service.approve(ALICE, id, { content_hash: (await h.service.get(id)).reviewable_hash, rollout_percent: 10 });
    const at = new Date(h.clock.now() + 60_000).toISOString();
    for (let i = 0; i < 5; i++) {
      await record(h, `s-w9-${i}`, [{ capability: "fetch", status: "failed", attempts: 1, domain: "site9.example" }], { at, rules: [judged!] });
      await record(h, `s-wo9-${i}`, [{ capability: "fetch", status: "success", attempts: 1, domain: "site9.example" }], { at });
    }
    // The service fails to read one rule, as a lost connection would for that query only.
    const flaky = new Proxy(h.service, {
      get: (target, prop, receiver) =>
        prop === "get" ? (id: string) => (id === broken ? Promise.reject(new Error("connection lost")) : target.get(id)) : (Reflect.get(target, prop, receiver) as unknown),
    });
    const errors: string[] = [];
    const out = await runGuardrails(h.pg.db, flaky, { minSessions: 5, onError: (id, err) => errors.push(`${id}: ${(err as Error).message}`) });
    expect(errors).toEqual([`${broken}: connection lost`]);
    expect(out.find((o) => o.rule_id === judged)?.retired).toBe(true);
    // Without onError the failures are thrown together, after every rule was checked.
    await expect(runGuardrails(h.pg.db, flaky, { minSessions: 5 })).rejects.toThrow(/guardrail failed for 1 rule/);
  });
});
