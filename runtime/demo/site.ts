/**
 * A small local web site for `agentbus demo`: a few pages on one host, a host that answers 429 for
 * a while, a host that always answers 429 (a rate-limited API that never lets up: what the learning
 * loop should learn to fail fast on), and a slow host. Four loopback addresses, so each has its own
 * domain in the workflow records and error clusters: a rule about the always-429 host must not touch
 * the host whose 429s pass.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseFetchAllow, type FetchAllowEntry } from "../capabilities/builtin/fetch-guard.ts";

export interface DemoSite {
  /** Base URLs of the four hosts. */
  main: string;
  /** 429 twice per URL and site run for /pages/busy.html (any query), then the page. */
  busy: string;
  /** 429 always for /pages/always-busy.html. */
  limited: string;
  slow: string;
  close(): Promise<void>;
}

const PAGES: Record<string, { title: string; body: string }> = {
  "/pages/solar.html": {
    title: "Solar power in Riverton",
    body: `<p>Riverton opened its first solar farm in 2019. The installed capacity is 1200 MW, enough for most homes in the valley.</p>
<p>The farm stores energy in a battery park so that evenings are covered. Battery storage doubled in 2024.</p>
<p>Critics say the panels use farmland; supporters answer that sheep still graze between the rows.</p>`,
  },
  "/pages/solar-update.html": {
    title: "Riverton solar: 2026 update",
    body: `<p>A new report revises the numbers. The installed capacity is 1350 MW after the eastern extension.</p>
<p>The battery park now covers the evening peak on most days of the year.</p>`,
  },
  "/pages/wind.html": {
    title: "Wind power on the Riverton ridge",
    body: `<p>Twelve turbines stand on the ridge above Riverton. Their combined capacity is 48 MW.</p>
<p>Wind complements solar: it blows hardest in winter evenings, when the panels are idle.</p>`,
  },
  "/pages/budget.html": {
    title: "Riverton energy budget",
    body: `<p>The town spends 3.2 million on energy each year. Solar saves about 0.9 million of that.</p>`,
  },
};

function page(title: string, body: string): string {
  return `<!doctype html><html><head><title>${title}</title><style>body{font-family:sans-serif}</style><script>var tracking = 1;</script></head><body><h1>${title}</h1>${body}</body></html>`;
}

export async function startDemoSite(options: { port?: number; slowMs?: number } = {}): Promise<DemoSite> {
  const slowMs = options.slowMs ?? 1500;
  const busyCounts = new Map<string, number>();
  const main = await listen("127.0.0.1", options.port ?? 0, (req, res) => serve(req, res));
  const busy = await listen("127.0.0.2", options.port ? options.port + 1 : 0, (req, res) => {
    // /pages/busy.html: 429 twice per URL (query included) and site run, then the page.
    const url = req.url ?? "/";
    const n = (busyCounts.get(url) ?? 0) + 1;
    busyCounts.set(url, n);
    const path = url.split("?")[0];
    if (path === "/pages/busy.html" && n <= 2) {
      res.writeHead(429, { "Retry-After": "1", "Content-Type": "text/plain" }).end("slow down");
      return;
    }
    serve({ url: path }, res, { "/pages/busy.html": PAGES["/pages/wind.html"]! });
  });
  const slow = await listen("127.0.0.3", options.port ? options.port + 2 : 0, (req, res) => {
    setTimeout(() => serve(req, res, { "/pages/slow.html": PAGES["/pages/budget.html"]! }), slowMs);
  });
  const limited = await listen("127.0.0.4", options.port ? options.port + 3 : 0, (req, res) => {
    if (req.url === "/pages/always-busy.html") {
      res.writeHead(429, { "Retry-After": "1", "Content-Type": "text/plain" }).end("rate limit exceeded");
      return;
    }
    serve(req, res, {});
  });
  return {
    main: base(main),
    busy: base(busy),
    limited: base(limited),
    slow: base(slow),
    close: async () => {
      await Promise.all([main, busy, slow, limited].map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
    },
  };
}

function serve(req: Pick<IncomingMessage, "url">, res: ServerResponse, extra: Record<string, { title: string; body: string }> = {}): void {
  const found = extra[req.url ?? ""] ?? PAGES[req.url ?? ""];
  if (!found) {
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    return;
  }
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page(found.title, found.body));
}

function listen(host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

function base(server: Server): string {
  const a = server.address() as AddressInfo;
  return `http://${a.address}:${a.port}`;
}

/**
 * The allow-list entries (host:port) fetch needs to reach the demo's hosts, which are on loopback
 * and so refused by default; as AGENTBUS_FETCH_ALLOW text with `.join(",")` on their sources.
 */
export function demoFetchAllow(site: Pick<DemoSite, "main" | "busy" | "limited" | "slow">): FetchAllowEntry[] {
  return parseFetchAllow([site.main, site.busy, site.limited, site.slow].map((u) => new URL(u).host).join(","));
}
