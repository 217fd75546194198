/**
 * Moved: the worker host is runtime/agents/host.ts. This re-export keeps agent tests that still
 * import it compiling until they switch; remove it once nothing imports this path.
 */
export { AgentHost, type AgentHostOptions, type DeliveryOutcome } from "../agents/host.ts";
