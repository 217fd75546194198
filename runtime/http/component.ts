/**
 * The HTTP API as a runtime component: listens when started (before the components after it, e.g.
 * the workers, so a taken port stops the start), serves the request API and every other component's
 * routes under /api behind the token, and stops listening when closed.
 */
import type { Express } from "express";
import type { ComponentHost, RuntimeComponent } from "../component.ts";
import { startHttpServer, type HttpServerHandle } from "./server.ts";

export interface HttpComponentOptions {
  token: string;
  /** Default: config.httpHost / config.httpPort. */
  host?: string;
  port?: number;
}

export interface HttpComponent extends RuntimeComponent {
  /** Where it listens, once started. */
  readonly url: string | undefined;
}

export function httpComponent(options: HttpComponentOptions): HttpComponent {
  let server: HttpServerHandle | undefined;
  return {
    name: "http",
    get url() {
      return server?.url;
    },
    async start(runtime: ComponentHost) {
      const routes = runtime.components.flatMap((c) => (c.routes ? [c.routes()] : []));
      const mounts = runtime.components.flatMap((c) => (c.mount ? [(app: Express) => c.mount?.(app)] : []));
      server = await startHttpServer(runtime.requestService(), {
        host: options.host ?? runtime.config.httpHost,
        port: options.port ?? runtime.config.httpPort,
        token: options.token,
        logger: runtime.logger,
        routes,
        mounts,
        health: () => runtime.health(),
      });
    },
    async close() {
      await server?.close();
      server = undefined;
    },
  };
}
