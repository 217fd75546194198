/**
 * The learning chain as the loaded agents declare it, found by what they accept and emit (the
 * runtime knows no agent by name): the agent that takes a `batch_request` from the batch
 * scheduler, then every agent a reply along the way may be addressed to.
 */
import { ConfigError } from "../errors/index.ts";
import { COMPLETE } from "../envelope/types.ts";
import type { AgentRegistry, LoadedAgent } from "../agents/loader.ts";
import { SCHEDULER_SOURCE } from "../schedules/slots.ts";

export const BATCH_REQUEST = "batch_request";

/** The one loaded agent that accepts a batch_request from the batch scheduler. */
export function batchRequestAgent(agents: AgentRegistry): LoadedAgent {
  const takers = agents.list().filter((a) => a.spec.accepts.content_types.includes(BATCH_REQUEST) && a.spec.accepts.sources.includes(SCHEDULER_SOURCE));
  const [only] = takers;
  if (!only) {
    const broken = agents.broken.length > 0 ? `; not loaded: ${agents.broken.map((b) => `${b.file} (${b.error})`).join(", ")}` : "";
    throw new ConfigError(`no loaded agent accepts "${BATCH_REQUEST}" from ${SCHEDULER_SOURCE} (loaded: ${agents.names().join(", ") || "none"})${broken}`);
  }
  if (takers.length > 1) throw new ConfigError(`several agents accept "${BATCH_REQUEST}" from ${SCHEDULER_SOURCE} (${takers.map((a) => a.name).join(", ")}): the learning chain must start at one`);
  return only;
}

/** `start` and every loaded agent its replies (and theirs) may be addressed to, in the order reached. */
export function chainAgents(agents: AgentRegistry, start: string): string[] {
  const seen: string[] = [];
  const queue = [start];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (name === COMPLETE || seen.includes(name)) continue;
    const spec = agents.spec(name);
    if (!spec) continue;
    seen.push(name);
    queue.push(...spec.emits.next_agents);
  }
  return seen;
}
