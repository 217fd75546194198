/** A real HTTP server with the review router on a random loopback port, over a test harness. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { AccountStore } from "../../runtime/review/auth.ts";
import { createReviewRouter } from "../../runtime/review/router.ts";
import type { LoginLimits } from "../../runtime/review/http-auth.ts";
import { RulesLoader } from "../../runtime/rules/loader.ts";
import type { ReviewHarness } from "./helpers.ts";

export const PASSWORD = "correct horse battery staple";

export async function startApp(h: ReviewHarness, o: { loginLimits?: LoginLimits } = {}): Promise<{ url: string; accounts: AccountStore; loader: RulesLoader; close(): Promise<void> }> {
  const accounts = new AccountStore(h.pg.db, h.clock);
  const loader = await new RulesLoader({ root: h.memory, rescanMs: 300, approvedFiles: () => h.service.approvedFiles() }).start();
  const app = express();
  app.use(createReviewRouter({ service: h.service, accounts, db: h.pg.db, loader, apiToken: "test-token-0123456789", insecureLoopbackCookies: true, ...(o.loginLimits ? { loginLimits: o.loginLimits } : {}) }));
  const server: Server = createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    accounts,
    loader,
    close: () =>
      new Promise<void>((r) => {
        loader.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
