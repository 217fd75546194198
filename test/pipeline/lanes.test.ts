/**
 * Slow I/O does not block cheap work: ten fetches of pages that never answer (on five loopback
 * hosts) are submitted, and "What is 2+2?" is answered while they still hang, on real Redis and
 * Postgres through every agent. The fetch lane holds the slow tasks; the others are deferred
 * without using attempts, and the action agent's remaining slots run the cheap work.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FETCH_DEFAULTS } from "../../runtime/capabilities/builtin/fetch.ts";
import { openPipeline, type Pipeline } from "../helpers/pipeline.ts";

const HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
let p: Pipeline;
const servers: Server[] = [];
const urls: string[] = [];
let open = 0;
let maxOpen = 0;
let closed = 0;

beforeAll(async () => {
  for (const host of HOSTS) {
    // Answers nothing, ever: each request stays open until the client gives up or the test ends.
    const server = createServer((req) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      req.socket.once("close", () => {
        open--;
        closed++;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    urls.push(`http://${host}:${port}/hang/a.html`, `http://${host}:${port}/hang/b.html`);
  }
  // The client must not give up on its own during the test: the hang lasts as long as we want.
  p = await openPipeline("lanes", { fetch: { timeoutMs: 120_000 } });
});

afterAll(async () => {
  // Ending the hang first lets the action agent's jobs finish, so the runtime can close.
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await p?.close();
});

async function until(what: string, pred: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("ten hanging fetches and a cheap request", () => {
  it("answers What is 2+2? while every slow fetch is still in flight", async () => {
    const service = p.runtime.requestService();
    for (const url of urls) await service.submit({ text: `Summarize ${url}` }, "user");
    const lane = FETCH_DEFAULTS.lanes.max;
    // The fetch lane fills: exactly its size reach the servers; the other four wait, deferred.
    await until(`${lane} fetches in flight`, () => open >= lane);

    const { view } = await p.run("What is 2+2?", 30_000);
    expect(view.status).toBe("success");
    expect((view.answer as { answer: string }).answer).toContain("2+2 = 4");

    // Still hanging: not one slow request has ended, and the lane was never exceeded.
    expect(closed).toBe(0);
    expect(open).toBe(lane);
    expect(maxOpen).toBe(lane);
  }, 90_000);
});
