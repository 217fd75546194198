/**
 * A page over the 200,000-character cap with the searched term at its end: the answer must not say
 * "not found" as a fact. (And a page with NUL bytes gives an answer.) Through the whole pipeline (real Redis, Postgres, every agent, the real
 * fetch against a local server) and through the synthesis alone.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withLlmAnswer } from "./llm.ts";
import { synthesize } from "./synthesize.ts";
import { openPipeline, type Pipeline } from "../../../test/helpers/pipeline.ts";
import { extracted, fetched, mentions, report } from "../../_shared/testing/reports.ts";

const FILLER = "<p>The valley grid carries power from the ridge to the town every day of the year.</p>\n";
// About 260,000 characters of HTML, "battery" only in the last paragraph.
const LONG_PAGE = `<html><head><title>Grid report</title></head><body>${FILLER.repeat(Math.ceil(260_000 / FILLER.length))}<p>The battery park covers the evening peak.</p></body></html>`;

// NUL bytes and broken UTF-8 in an ordinary page: the session must still answer.
const NUL_PAGE = Buffer.concat([Buffer.from("<html><head><title>Nul page</title></head><body><p>The battery"), Buffer.from([0]), Buffer.from(" park is large. Caf"), Buffer.from([0xc3, 0x28, 0]), Buffer.from(" open.</p></body></html>")]);
let p: Pipeline;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(req.url === "/nul.html" ? NUL_PAGE : LONG_PAGE));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  p = await openPipeline("trunc");
});

afterAll(async () => {
  await p?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe("an input cut at the cap", () => {
  it("lowers confidence and says, in the answer, that the term may be in the part not read", async () => {
    expect(LONG_PAGE.length).toBeGreaterThan(200_000);
    const { view } = await p.run(`Find mentions of "battery" in ${base}/long.html`, 30_000);
    const answer = view.answer as { answer: string; confidence: number; findings: Array<{ statement: string }> };
    expect(answer.answer).toContain("cut at 200,000 characters");
    expect(answer.answer).toContain("may be in the part not read");
    expect(answer.answer).toContain(`kept only the first 200,000 of ${LONG_PAGE.length.toLocaleString("en-US")} characters`);
    expect(answer.answer).not.toMatch(/"battery" not found\b/);
    expect(answer.confidence).toBeLessThanOrEqual(0.5);
    expect(answer.findings.some((f) => f.statement.includes("may be in the part not read"))).toBe(true);
  });
});

describe("a fetched page with NUL bytes", () => {
  it("gives an answer, not a dead session", async () => {
    const { view, record } = await p.run(`Find mentions of "battery" in ${base}/nul.html`, 30_000);
    expect(view.status).toBe("success");
    expect((view.answer as { answer: string }).answer).toContain('"battery" 1 time');
    expect(record?.status).toBe("success");
  });
});

describe("synthesis of cut inputs", () => {
  const cutFetch = (): ReturnType<typeof fetched> => {
    const t = fetched("t1", "a.example");
    return { ...t, outputs: { ...t.outputs, html: "x".repeat(1000), truncated: true, total_chars: 5000 } };
  };

  it("a term not found downstream of a cut is not a fact: confidence at most 0.4", () => {
    const r = synthesize(report([cutFetch(), extracted("t2", "t1", "A", "text"), mentions("t3", ["t2"], { battery: [] })]));
    expect(r.synthesis.confidence).toBeLessThanOrEqual(0.4);
    expect(r.synthesis.answer).toContain('"battery" was not found in the part that was read, but the input was cut at 1,000 characters');
    expect(r.synthesis.answer).toContain("t1 (fetch) kept only the first 1,000 of 5,000 characters");
  });

  it("a term found in a cut input is counted for the part read, with confidence lowered less", () => {
    const r = synthesize(report([cutFetch(), extracted("t2", "t1", "A", "battery"), mentions("t3", ["t2"], { battery: ["battery"] })]));
    expect(r.synthesis.answer).toContain('"battery" 1 time in the part that was read');
    expect(r.synthesis.confidence).toBe(0.72);
  });

  it("an LLM-written answer still says the input was cut and keeps the ceiling", () => {
    const rep = report([cutFetch(), extracted("t2", "t1", "A", "text"), mentions("t3", ["t2"], { battery: [] })]);
    const r = withLlmAnswer(synthesize(rep), { answer: "The page does not mention battery.", findings: [], contradictions: [], confidence: 0.95 }, rep);
    expect(r?.synthesis.answer).toContain("t1 (fetch) kept only the first 1,000 of 5,000 characters");
    expect(r?.synthesis.confidence).toBeLessThanOrEqual(0.4);
  });

  it("nothing cut: unchanged", () => {
    const r = synthesize(report([fetched("t1", "a.example"), extracted("t2", "t1", "A", "text"), mentions("t3", ["t2"], { battery: [] })]));
    expect(r.synthesis.answer).toContain('"battery" not found');
    expect(r.synthesis.answer).not.toContain("cut");
    expect(r.synthesis.confidence).toBe(0.9);
  });
});
