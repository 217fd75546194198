/**
 * What observers of deliveries see: for each delivery its agent, message, outcome and duration,
 * after it ended (not only "about to act"). `observeDeliveries` turns a callback into an interceptor.
 */
import { performance } from "node:perf_hooks";
import { messageIdOf } from "../../bus/events.ts";
import type { DeliveryInterceptor, DeliveryOutcomeKind } from "./types.ts";

export interface DeliveryObservation {
  agent: string;
  message_id: string | null;
  session_id: string | null;
  /** How the delivery ended; `error` when an unexpected error escaped the chain (BullMQ retries it). */
  outcome: DeliveryOutcomeKind | "error";
  duration_ms: number;
  attempt: number;
  /** The error code for failed, retry and error outcomes. */
  code: string | null;
}

export function observeDeliveries(name: string, observe: (o: DeliveryObservation) => void): DeliveryInterceptor {
  return {
    name,
    async intercept(ctx, next) {
      const base = () => ({
        agent: ctx.agent.name,
        message_id: ctx.envelope?.message_id ?? messageIdOf(ctx.raw),
        session_id: ctx.envelope?.metadata.session_id ?? null,
        duration_ms: performance.now() - ctx.startedAt,
        attempt: Math.max(1, ctx.job.attemptsStarted),
      });
      try {
        const result = await next();
        observe({ ...base(), outcome: result.outcome, code: "code" in result ? result.code : null });
        return result;
      } catch (err) {
        const code = (err as { code?: unknown } | null)?.code;
        observe({ ...base(), outcome: "error", code: typeof code === "string" ? code : null });
        throw err;
      }
    },
  };
}
