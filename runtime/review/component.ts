/**
 * The review UI, /api/rules and the queue dashboard as a runtime component. It needs the store
 * (decisions, accounts, sessions); start it before the HTTP component, which mounts it.
 */
import type { Express } from "express";
import type { ComponentHost, RuntimeComponent } from "../component.ts";
import { AgentbusError } from "../errors/index.ts";
import type { RulesLoader } from "../rules/loader.ts";
import { reviewMount } from "./mount.ts";

export function reviewComponent(options: { apiToken: string; loader?: RulesLoader }): RuntimeComponent {
  let mount: ((app: Express) => void) | undefined;
  return {
    name: "review",
    async start(runtime: ComponentHost) {
      const store = runtime.store;
      if (!store) throw new AgentbusError("STORE_REQUIRED", "the review UI needs the system of record; open the runtime with a store");
      mount = await reviewMount({
        config: runtime.config,
        db: store.db,
        audit: store.audit,
        apiToken: options.apiToken,
        queues: () => runtime.agents.names().map((n) => runtime.bus.queue(n)),
        clock: runtime.clock,
        // Login attempts counted in Redis: a deployment of several `start` processes shares one limit.
        loginCounts: { redis: runtime.transport.connection, prefix: runtime.transport.prefix },
        ...(options.loader ? { loader: options.loader } : {}),
      });
    },
    mount(app: Express) {
      mount?.(app);
    },
    close() {
      mount = undefined;
    },
  };
}
