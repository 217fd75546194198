/** Starts and stops the HTTP API server. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InfrastructureError } from "../errors/index.ts";
import { createHttpApp } from "./app.ts";
import type { RequestService } from "./request-service.ts";

export interface HttpServerHandle {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(service: RequestService, options: { host: string; port: number; token: string }): Promise<HttpServerHandle> {
  const server: Server = createServer(createHttpApp(service, { token: options.token }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new InfrastructureError("PORT_IN_USE", `port ${options.port} on ${options.host} is in use; set AGENTBUS_HTTP_PORT or --port`, { recoverable: false }) : err),
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
