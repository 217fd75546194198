/**
 * The audit log as runtime components. The recorder: every gateway event becomes an audit row, the
 * writer's buffer bound is the gateway's admission gate, and while the log cannot take rows the
 * workers stop taking jobs (they wait, durable, in Redis) until it drains. Maintenance (servers
 * only, `agentbus start`): the scheduled retention and checkpoint jobs.
 */
import { Redis } from "ioredis";
import type { ComponentHost, RuntimeComponent } from "../component.ts";
import { workerConnectionOptions } from "../infra/redis.ts";
import { CheckpointJob } from "./checkpoint-job.ts";
import { AuditRecorder } from "./recorder.ts";
import { RetentionJob } from "./retention-job.ts";

export function auditRecorderComponent(): RuntimeComponent {
  let detach: (() => void) | undefined;
  return {
    name: "audit-recorder",
    start(runtime: ComponentHost) {
      const store = runtime.store;
      if (!store) return;
      const recorder = new AuditRecorder(store.audit);
      const pause = (): void => {
        runtime.logger.error("audit log cannot keep up or is unreachable: pausing agent workers and refusing new requests");
        runtime.holdAgents("audit");
      };
      const resume = (): void => {
        runtime.logger.warn("audit log caught up: resuming agent workers");
        runtime.releaseAgents("audit");
      };
      runtime.bus.addObserver(recorder);
      runtime.bus.addGate(recorder);
      store.audit.on("refusing", pause);
      store.audit.on("accepting", resume);
      detach = () => {
        store.audit.off("refusing", pause);
        store.audit.off("accepting", resume);
        runtime.bus.removeGate(recorder);
        runtime.bus.removeObserver(recorder);
      };
    },
    close() {
      detach?.();
      detach = undefined;
    },
  };
}

/** Schedules the audit retention and checkpoint jobs; needs the store. */
export function maintenanceComponent(): RuntimeComponent {
  let connection: Redis | undefined;
  let retention: RetentionJob | undefined;
  let checkpoints: CheckpointJob | undefined;
  return {
    name: "maintenance",
    async start(runtime: ComponentHost) {
      const { store, config } = runtime;
      if (!store) return;
      connection = new Redis({ ...workerConnectionOptions(runtime.redis.url), connectionName: runtime.transport.connectionName });
      const common = { db: store.db, connection: runtime.transport.connection, workerConnection: connection, prefix: config.queuePrefix, logger: runtime.logger };
      retention = new RetentionJob({ ...common, cron: config.retentionCron, timezone: config.timezone, period: config.auditRetention, clock: runtime.clock });
      await retention.start();
      checkpoints = new CheckpointJob({ ...common, everyMinutes: config.auditCheckpointMinutes, keyFile: config.auditKeyFile, origin: config.auditOrigin, dir: config.auditCheckpointDir });
      await checkpoints.start();
    },
    async close() {
      await retention?.close();
      await checkpoints?.close();
      connection?.disconnect();
      retention = checkpoints = connection = undefined;
    },
  };
}
