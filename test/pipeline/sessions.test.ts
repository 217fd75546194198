/**
 * Whole sessions, no API key: planning → dispatch → action (one per task) → reasoning → memory, on
 * real Redis and Postgres, against a local site with a page host, a 429 host and a slow host.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../runtime/store/verify.ts";
import { openPipeline, type Pipeline } from "../helpers/pipeline.ts";

let p: Pipeline;
beforeAll(async () => {
  p = await openPipeline("pipeline");
});
afterAll(async () => {
  await p?.close();
});

describe("a request with no API key", () => {
  it("is planned, run task by task, answered and recorded, all in valid envelopes of one session", async () => {
    const { view, record } = await p.run(`Find mentions of "battery" in ${p.site.main}/pages/solar.html`);
    expect(view.status).toBe("success");
    expect((view.answer as { answer: string }).answer).toMatch(/battery/i);
    const senders = new Set(view.trace.filter((h) => h.event !== "delivered").map((h) => h.from));
    expect([...senders].sort()).toEqual(["action_agent", "dispatch_agent", "memory_agent", "planning_agent", "reasoning_agent", "user"]);
    expect(view.trace.filter((h) => h.event === "published" && h.content_type === "task")).toHaveLength(record!.tasks.length);
    expect(record).toMatchObject({ status: "success", request: { text: expect.stringContaining("battery") as unknown } });
    expect(record!.plan.map((t) => t.capability)).toEqual(["fetch", "extract_text", "find_mentions"]);
    expect(record!.tasks.every((t) => t.status === "succeeded" && t.attempts === 1 && typeof t.duration_ms === "number")).toBe(true);
    expect(record!.tasks.find((t) => t.capability === "fetch")?.domain).toBe("127.0.0.1");
    await p.runtime.store!.audit.flush();
    expect(await verifyAudit(p.runtime.store!.db, { sessionId: view.session_id })).toMatchObject({ ok: true });
  });

  it("runs the branches of a multi-task plan in parallel", async () => {
    const { view, record } = await p.run(`Summarize ${p.site.main}/pages/solar.html and ${p.site.main}/pages/wind.html`);
    expect(view.status).toBe("success");
    expect(record!.tasks.filter((t) => t.capability === "fetch")).toHaveLength(2);
    // Both fetches were sent before any result came back: the first two tasks precede the first result.
    const order = view.trace.filter((h) => h.event === "published" && (h.content_type === "task" || h.content_type === "action_result")).map((h) => h.content_type);
    expect(order.slice(0, 2)).toEqual(["task", "task"]);
  });

  it("retries a 429 with backoff and then succeeds", async () => {
    const { view, record } = await p.run(`Summarize ${p.site.busy}/pages/busy.html`);
    expect(view.status).toBe("success");
    const fetch = record!.tasks.find((t) => t.capability === "fetch")!;
    expect(fetch).toMatchObject({ status: "succeeded", attempts: 3, error_code: "HTTP_429", domain: "127.0.0.2", recoverable: true });
  });

  it("fails a 404 at once and skips its dependants", async () => {
    const { view, record } = await p.run(`Summarize ${p.site.main}/pages/missing.html`);
    expect(view.status).toBe("failed");
    expect(record!.tasks.map((t) => `${t.capability}:${t.status}`)).toEqual(["fetch:failed", "extract_text:skipped", "summarize:skipped"]);
    expect(record!.tasks[0]).toMatchObject({ attempts: 1, error_code: "HTTP_404", recoverable: false });
    expect((view.answer as { answer: string }).answer).toContain("HTTP_404");
  });

  it("answers an unplannable request with a clear failure saying what is missing", async () => {
    const { view } = await p.run("Summarize it for me please");
    expect(view.status).toBe("failed");
    expect((view.answer as { answer: string }).answer).toMatch(/summary but gives no URL or text/);
    expect(view.trace.find((h) => h.event === "completed")?.error_code).toBe("UNPLANNABLE");
  });
});
