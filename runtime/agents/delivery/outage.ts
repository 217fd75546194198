/**
 * Postgres or Redis away (in the handler, the audit log or routing) is not the message's fault: the
 * delivery waits for it, without using an attempt, however long the outage lasts. Redelivery is
 * safe: state writes are keyed by message id and reply ids are claimed once. The host does the
 * waiting (it holds the worker and reports the outage).
 */
import { unavailableResource } from "../../bus/outage.ts";
import type { DeliveryInterceptor } from "./types.ts";

export function infrastructureOutage(): DeliveryInterceptor {
  return {
    name: "infrastructure-outage",
    async intercept(_ctx, next) {
      try {
        return await next();
      } catch (err) {
        const resource = unavailableResource(err);
        if (resource === null) throw err;
        return { outcome: "waiting", resource, error: err };
      }
    },
  };
}
