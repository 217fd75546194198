/** The delivery pipeline: the interceptor interface, the built-in steps in their order, observation. */
import type { Clock } from "../../envelope/clock.ts";
import type { SchemaRegistry } from "../../schemas/registry.ts";
import type { TaskRetryPolicy } from "../../bus/topology.ts";
import type { Gateway } from "../gateway.ts";
import type { ApprovedRule } from "../handler.ts";
import type { ServicesFactory } from "../services.ts";
import { composeChain, type Chain } from "./chain.ts";
import { callHandler } from "./handler.ts";
import { callHooks } from "./hooks.ts";
import { infrastructureOutage } from "./outage.ts";
import { publishReplies } from "./publish.ts";
import { receiveValidation } from "./receive.ts";
import { buildReplies } from "./reply.ts";
import { validateReplies } from "./reply-validation.ts";
import { applyRules } from "./rules.ts";
import type { DeliveryInterceptor } from "./types.ts";

export type * from "./types.ts";
export { composeChain, type Chain } from "./chain.ts";
export { observeDeliveries, type DeliveryObservation } from "./observe.ts";

export interface PipelineOptions {
  gateway: Gateway;
  clock: Clock;
  timezone: string;
  registry: SchemaRegistry;
  retryPolicy: TaskRetryPolicy;
  rules?: (agent: string) => readonly ApprovedRule[];
  services?: ServicesFactory;
  /** The components' interceptors: around the whole chain (first listed outermost), and their call hooks. */
  interceptors?: readonly DeliveryInterceptor[];
}

/** The chain a host runs each delivery through: the components' interceptors, then the built-in steps. */
export function deliveryPipeline(options: PipelineOptions): Chain {
  const extra = options.interceptors ?? [];
  const { gateway } = options;
  return composeChain([
    ...extra,
    receiveValidation(gateway),
    infrastructureOutage(),
    applyRules(options.rules),
    callHandler({ gateway, clock: options.clock, registry: options.registry, retryPolicy: options.retryPolicy, hooks: callHooks(extra), ...(options.services ? { services: options.services } : {}) }),
    buildReplies({ gateway, clock: options.clock, timezone: options.timezone }),
    validateReplies(gateway),
    publishReplies(gateway),
  ]);
}
