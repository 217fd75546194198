/** Runs a delivery through an ordered list of interceptors; the first listed is the outermost. */
import type { DeliveryContext, DeliveryInterceptor, DeliveryResult, Next } from "./types.ts";

export type Chain = (ctx: DeliveryContext) => Promise<DeliveryResult>;

export function composeChain(interceptors: readonly DeliveryInterceptor[]): Chain {
  const steps = interceptors.filter((i) => i.intercept !== undefined);
  return (ctx) => {
    const at = (index: number): Next => () => {
      const step = steps[index];
      if (!step?.intercept) return Promise.reject(new Error(`the delivery chain ended without an answer after ${steps.map((s) => s.name).join(" → ")}`));
      return step.intercept(ctx, at(index + 1));
    };
    return at(0)();
  };
}
