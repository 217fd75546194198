/**
 * A feature of a running system that plugs into the runtime instead of growing a method on it: the
 * HTTP API, the maintenance jobs, the audit recorder, the agent workers. Runtime.open starts the
 * components in the order given and closes them in reverse; a failure while opening closes
 * everything opened so far.
 */
import type { Express, Router } from "express";
import type { Logger } from "pino";
import type { DeliveryInterceptor } from "./agents/delivery/index.ts";
import type { Gateway } from "./agents/gateway.ts";
import type { AgentHost } from "./agents/host.ts";
import type { AgentRegistry } from "./agents/loader.ts";
import type { Bus } from "./bus/bus.ts";
import type { RuntimeConfig } from "./config/config.ts";
import type { Clock } from "./envelope/clock.ts";
import type { RequestService } from "./http/request-service.ts";
import type { RedisHandle } from "./infra/redis.ts";
import type { AuditWriter } from "./store/audit-writer.ts";
import type { Db } from "./store/db.ts";

/** The store side of a runtime: the database and the audit log writer. */
export interface RuntimeStore {
  db: Db;
  audit: AuditWriter;
}

/** What a component sees of the runtime it is started in (Runtime implements it). */
export interface ComponentHost {
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly agents: AgentRegistry;
  /** The gateway: validate, publish, replay, dead letters, observers. */
  readonly bus: Gateway;
  /** The transport underneath (queues, connection, claims). */
  readonly transport: Bus;
  readonly redis: RedisHandle;
  readonly store: RuntimeStore | undefined;
  readonly components: readonly RuntimeComponent[];
  requestService(): RequestService;
  /** Whether Postgres, Redis and the audit log are fine (GET /healthz). */
  health(): { ok: boolean };
  startAgents(names?: readonly string[], overrides?: { concurrency?: number }): AgentHost[];
  /** Pause every worker for `reason` (they resume when every reason is released). */
  holdAgents(reason: string): void;
  releaseAgents(reason: string): void;
}

export interface RuntimeComponent {
  readonly name: string;
  start(runtime: ComponentHost): Promise<void> | void;
  close(): Promise<void> | void;
  /** Routes served under /api (behind the API token) by the HTTP component. */
  routes?(): Router;
  /** Mounted on the HTTP app before the API token check, for pages with their own login. */
  mount?(app: Express): void;
  /** Interceptors every agent host of the runtime runs its deliveries through. */
  interceptors?(): DeliveryInterceptor[];
}

/** What was opened so far, closed in reverse; errors while closing are logged, not thrown over the first. */
export class OpenedStack {
  private readonly closers: Array<{ name: string; close: () => Promise<void> | void }> = [];

  push(name: string, close: () => Promise<void> | void): void {
    this.closers.push({ name, close });
  }

  async closeAll(onError: (name: string, err: unknown) => void): Promise<void> {
    while (this.closers.length > 0) {
      const c = this.closers.pop();
      if (!c) break;
      try {
        await c.close();
      } catch (err) {
        onError(c.name, err);
      }
    }
  }
}
