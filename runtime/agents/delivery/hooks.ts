/**
 * The LLM and capability hooks: ctx.llm and the capabilities a handler reaches are wrapped so each
 * call runs through the interceptors' `llm` / `capability` hooks (first listed outermost). Without
 * such hooks nothing is wrapped: the hot path pays nothing.
 */
import type { Capability, CapabilityCatalog, CapabilityContext } from "../../capabilities/types.ts";
import type { Envelope } from "../../envelope/types.ts";
import type { LlmClient } from "../../llm/types.ts";
import type { CapabilityCall, DeliveryInterceptor, LlmCall } from "./types.ts";

type Around<C, R> = (call: C, next: () => Promise<R>) => Promise<R>;

function around<C, R>(hooks: ReadonlyArray<Around<C, R>>, call: C, last: () => Promise<R>): Promise<R> {
  const at = (i: number): Promise<R> => {
    const hook = hooks[i];
    return hook ? hook(call, () => at(i + 1)) : last();
  };
  return at(0);
}

export interface CallHooks {
  llm: ReadonlyArray<Around<LlmCall, unknown>>;
  capability: ReadonlyArray<Around<CapabilityCall, Record<string, unknown>>>;
}

export function callHooks(interceptors: readonly DeliveryInterceptor[]): CallHooks {
  return {
    llm: interceptors.flatMap((i) => (i.llm ? [i.llm.bind(i)] : [])),
    capability: interceptors.flatMap((i) => (i.capability ? [i.capability.bind(i)] : [])),
  };
}

export function hookLlm(llm: LlmClient | null, hooks: CallHooks, agent: string, message: Envelope): LlmClient | null {
  if (llm === null || hooks.llm.length === 0) return llm;
  const base = { agent, message_id: message.message_id, session_id: message.metadata.session_id };
  return {
    provider: llm.provider,
    model: llm.model,
    text: (request) => around(hooks.llm, { ...base, method: "text", content_type: null }, () => llm.text(request)) as Promise<string>,
    json: <T>(request: { prompt: string; contentType: string; maxTokens?: number }) =>
      around(hooks.llm, { ...base, method: "json", content_type: request.contentType }, () => llm.json<T>(request)) as Promise<T>,
  };
}

export function hookCapabilities(catalog: CapabilityCatalog, hooks: CallHooks, agent: string, message: Envelope): CapabilityCatalog {
  if (hooks.capability.length === 0) return catalog;
  const base = { agent, message_id: message.message_id, session_id: message.metadata.session_id };
  // Object.create keeps every other property (lanes, schemas, methods) of the capability as it is.
  const wrap = (cap: Capability): Capability => {
    const wrapped = Object.create(cap) as Capability;
    wrapped.execute = (input: Record<string, unknown>, ctx: CapabilityContext) => around(hooks.capability, { ...base, capability: cap.name, input }, () => cap.execute(input, ctx));
    return wrapped;
  };
  return {
    get: (name) => {
      const cap = catalog.get(name);
      return cap ? wrap(cap) : undefined;
    },
    list: () => catalog.list().map(wrap),
  };
}
