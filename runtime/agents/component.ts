/** The agent workers as a runtime component: started after those listed before it (e.g. the HTTP API). */
import type { ComponentHost, RuntimeComponent } from "../component.ts";
import type { AgentHost } from "./host.ts";

export function agentsComponent(names?: readonly string[], overrides: { concurrency?: number } = {}): RuntimeComponent {
  let hosts: AgentHost[] = [];
  return {
    name: "agents",
    start(runtime: ComponentHost) {
      hosts = runtime.startAgents(names, overrides);
    },
    async close() {
      // The runtime closes its hosts too; closing twice is harmless, and this keeps the order.
      await Promise.all(hosts.map((h) => h.close()));
      hosts = [];
    },
  };
}
