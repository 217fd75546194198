/**
 * End to end in real Chromium: log in, review, approve, edit-then-approve, roll back; hostile text
 * stays inert; no entry without a login, no state change without the CSRF token. Screenshots go to
 * test-artifacts/review/.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import { launchChromium } from "./browser.ts";
import { PASSWORD, startApp } from "./app.ts";
import { propose, proposedRule, record, startReview, type ReviewHarness } from "./helpers.ts";

const SHOTS = join(PROJECT_ROOT, "test-artifacts", "review");
let h: ReviewHarness;
let app: Awaited<ReturnType<typeof startApp>>;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const dialogs: string[] = [];

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  h = await startReview("review_e2e");
  app = await startApp(h);
  await app.accounts.create("alice", "reviewer", PASSWORD);
  chrome = await launchChromium();
  browser = chrome.browser;
  ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
}, 60_000);
afterAll(async () => {
  await chrome?.close();
  await app?.close();
  await h?.teardown();
});

async function until(fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("review UI in Chromium", () => {
  it("refuses an unauthenticated visitor: every page sends them to the login", async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${app.url}/review/rules/rule_20261121_01`);
    expect(new URL(p.url()).pathname).toBe("/review/login");
    const api = await other.request.get(`${app.url}/api/rules`);
    expect(api.status()).toBe(401);
    const post = await other.request.post(`${app.url}/review/rules/rule_20261121_01/approve`, { form: { content_hash: "x" } });
    expect(post.status()).toBe(401);
    await other.close();
  });

  it("logs in and shows a useful empty state on a fresh install", async () => {
    await page.goto(`${app.url}/review`);
    await page.fill("#name", "alice");
    await page.fill("#password", PASSWORD);
    await page.click("#login");
    await page.waitForURL(`${app.url}/review`);
    expect(await page.textContent("main")).toContain("No rules yet");
    await page.screenshot({ path: join(SHOTS, "empty-state.png"), fullPage: true });
  });

  it("shows a pending rule, opens it, approves it: the file appears and the rule is in the approved list", async () => {
    await record(h, "s-ex-1", [{ capability: "fetch", status: "failed", attempts: 3, error_code: "HTTP_429", domain: "site1.example", duration_ms: 9000 }]);
    await record(h, "s-ex-2", [{ capability: "fetch", status: "failed", attempts: 3, error_code: "HTTP_429", domain: "site1.example", duration_ms: 6000 }]);
    await propose(h, [proposedRule(1), proposedRule(2, { priority: "medium", confidence_score: 0.75, target_agent: "planning_agent", effect: { op: "insert_before", capability: "summarize", insert: "extract_text" }, trigger_condition: "A summary is requested of a page" }), proposedRule(3, { priority: "low", confidence_score: 0.6 })]);
    await page.goto(`${app.url}/review`);
    const rows = await page.locator("#list tbody tr td:nth-child(2) a").allTextContents();
    expect(rows).toEqual(["rule_20261121_01", "rule_20261121_02", "rule_20261121_03"]);
    await page.screenshot({ path: join(SHOTS, "list.png"), fullPage: true });

    await page.click("text=rule_20261121_01");
    await page.waitForURL(/rules\/rule_20261121_01/);
    const main = await page.textContent("main");
    expect(main).toContain("fetch fails with HTTP_429 on site1.example");
    expect(main).toContain("Retries (attempts) saved");
    expect(await page.textContent("table.figures")).toContain("4"); // 2 sessions × (3 - 1) attempts
    expect(await page.$("a[href='/review/trace/s-ex-1']")).not.toBeNull();
    await page.screenshot({ path: join(SHOTS, "rule-page.png"), fullPage: true });

    await page.click("#approve");
    await page.waitForURL(/notice=Approved/);
    const file = join(h.memory, "dispatch_agent", "rule_20261121_01.md");
    expect(existsSync(file)).toBe(true);
    expect(await readFile(file, "utf8")).toContain('approved_by: "alice"');
    await until(() => app.loader.rulesFor("dispatch_agent").some((r) => r.rule_id === "rule_20261121_01"));
    await page.goto(`${app.url}/review?state=approved`);
    expect(await page.textContent("#list")).toContain("rule_20261121_01");
  });

  it("edit-then-approve creates version 2; roll back restores version 1's text as version 3", async () => {
    await page.goto(`${app.url}/review/rules/rule_20261121_01`);
    await page.click("summary");
    await page.fill("#edit-instruction", "Do not retry; try again tomorrow.");
    await page.click("#edit-approve");
    await page.waitForURL(/notice=/);
    const file = join(h.memory, "dispatch_agent", "rule_20261121_01.md");
    expect(await readFile(file, "utf8")).toContain("version: 2");
    expect(await readFile(file, "utf8")).toContain("try again tomorrow");
    expect(await page.textContent("main")).toContain("Change against version 1");

    await page.fill("#rollback-v1 >> xpath=preceding-sibling::input[@name='reason']", "v2 was worse");
    await page.click("#rollback-v1");
    await page.waitForURL(/notice=Rolled/);
    const text = await readFile(file, "utf8");
    expect(text).toContain("version: 3");
    expect(text).not.toContain("try again tomorrow");
    await until(() => app.loader.rulesFor("dispatch_agent").find((r) => r.rule_id === "rule_20261121_01")?.version === 3);
  });

  it("shows a rule whose text holds an HTML/script payload inert, with invisible characters visible", async () => {
    const payload = `<script>alert("xss")</script><img src=x onerror="alert(1)"> zero\u200bwidth \u202Eevil`;
    await propose(h, [proposedRule(9, { trigger_condition: payload, rationale: `<b onmouseover=alert(2)>bold</b>`, pattern_key: "action_failure:fetch:HTTP_429:xss.example" })], "batch_20261121_002");
    await page.goto(`${app.url}/review/rules/rule_20261121_04`);
    const trigger = await page.textContent("#trigger");
    expect(trigger).toContain('<script>alert("xss")</script>');
    expect(trigger).toContain("⟨U+200B⟩");
    expect(trigger).toContain("⟨U+202E⟩");
    expect(await page.$$eval("main script, main img, main b", (els) => els.length)).toBe(0);
    await page.hover("#rationale");
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "html-payload-inert.png"), fullPage: true });
  });

  it("refuses a state change without the CSRF token", async () => {
    const detail = await h.service.get("rule_20261121_03");
    const res = await ctx.request.post(`${app.url}/review/rules/rule_20261121_03/approve`, { form: { content_hash: detail.reviewable_hash } });
    expect(res.status()).toBe(403);
    const api = await ctx.request.post(`${app.url}/api/rules/rule_20261121_03/approve`, { data: { content_hash: detail.reviewable_hash } });
    expect(api.status()).toBe(403);
    expect((await h.service.get("rule_20261121_03")).state).toBe("pending");
  });

  it("keyboard: j moves, Enter opens, r focuses the reject reason", async () => {
    await page.goto(`${app.url}/review?state=pending`);
    const second = await page.$eval("#list tbody tr:nth-child(2)", (tr) => (tr as unknown as { dataset: { href?: string } }).dataset.href);
    await page.keyboard.press("j");
    expect(await page.$eval("#list tbody tr.cur", (tr) => (tr as unknown as { dataset: { href?: string } }).dataset.href)).toBe(second);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${app.url}${second}`, { timeout: 10_000 });
    await page.keyboard.press("r");
    expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe("reject-reason");
  });

  it("bulk reject names the count before doing it", async () => {
    await page.goto(`${app.url}/review?state=pending`);
    await page.click("button[value=reject]");
    const heading = await page.textContent("h1");
    expect(heading).toMatch(/Reject 3 rules\?/);
    await page.fill("input[name=reason]", "bulk test");
    await page.click("#confirm");
    await page.waitForURL(/notice=/);
    expect(await page.textContent("main")).toContain("Rejected 3 of 3");
  });

  it("fits a narrow window", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${app.url}/review?state=all`);
    await page.screenshot({ path: join(SHOTS, "narrow-list.png"), fullPage: true });
    await page.goto(`${app.url}/review/rules/rule_20261121_01`);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(2);
    await page.screenshot({ path: join(SHOTS, "narrow-rule.png"), fullPage: true });
  });
});
