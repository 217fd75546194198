/** Starts and stops the HTTP API server. */
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import type { Router } from "express";
import type { Logger } from "pino";
import { InfrastructureError } from "../errors/index.ts";
import { createHttpApp, type HttpAppOptions } from "./app.ts";
import type { RequestService } from "./request-service.ts";

export interface HttpServerHandle {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(
  service: RequestService,
  options: { host: string; port: number; token: string; logger?: Logger; routes?: Router[]; health?: () => { ok: boolean }; mounts?: HttpAppOptions["mounts"] },
): Promise<HttpServerHandle> {
  const { host: _host, port: _port, ...appOptions } = options;
  const server: Server = createServer(createHttpApp(service, appOptions));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? portInUse(options.host, options.port) : err),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The one message for a taken port, wherever it is found. */
export function portInUse(host: string, port: number): InfrastructureError {
  return new InfrastructureError("PORT_IN_USE", `port ${port} on ${host} is in use; pick another with --port <n> or AGENTBUS_HTTP_PORT (0 picks a free one)`, { recoverable: false });
}

/**
 * Fails with PORT_IN_USE when `port` cannot be bound on `host` right now (bind, then release), so
 * `agentbus start` can say so before it spends time opening Redis and the database. The real
 * listen (before any worker starts) still catches a port taken in between.
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? portInUse(host, port) : err));
    probe.listen({ host, port, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
