/** Whole sessions through the real agents in agents/, against the local demo site. */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../runtime/paths.ts";
import type { RuntimeConfig } from "../../runtime/config/config.ts";
import type { Runtime, RuntimeComponent, RuntimeOptions } from "../../runtime/runtime.ts";
import type { SessionView } from "../../runtime/http/request-service.ts";
import { startDemoSite, type DemoSite } from "../../runtime/demo/site.ts";
import { TEST_FETCH_ALLOW } from "../capabilities/helpers.ts";
import { builtinCapabilities, type FetchOptions } from "../../runtime/capabilities/builtin/index.ts";
import { DATABASE_URL, dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, type EventLog } from "./bus.ts";

export const AGENTS_DIR = join(PROJECT_ROOT, "agents");

export interface Pipeline {
  runtime: Runtime;
  events: EventLog;
  site: DemoSite;
  prefix: string;
  schema: string;
  /** Submits a request and waits until its session has finished, its record is written and recorded as sent. */
  run(text: string, timeoutMs?: number): Promise<{ view: SessionView; record: WorkflowRecordLike | null }>;
  close(): Promise<void>;
}

export interface WorkflowRecordLike {
  status: string;
  plan: Array<{ task_id: string; capability: string; depends_on: string[] }>;
  tasks: Array<{ task_id: string; capability: string; status: string; attempts: number; error_code?: string; domain?: string; recoverable: boolean; duration_ms?: number }>;
  request: { text: string; category: string };
  rules_applied?: string[];
}

export interface PipelineOptions {
  agents?: string[];
  fetch?: FetchOptions;
  databaseUrl?: string;
  rules?: RuntimeOptions["rules"];
  /** Configuration on top of the test defaults (e.g. memoryDir). */
  config?: Partial<RuntimeConfig>;
  /** Components to open the runtime with, built from its configuration (e.g. the rules loader). */
  components?: (config: RuntimeConfig) => RuntimeComponent[];
}

export async function openPipeline(name: string, options: PipelineOptions = {}): Promise<Pipeline> {
  const prefix = uniquePrefix(name);
  const schema = uniqueSchema(name);
  const site = await startDemoSite({ slowMs: 1500 });
  // The demo site and the tests' own servers are on loopback: allowed here, refused by default.
  const config = testConfig(prefix, { agentsDir: AGENTS_DIR, dbSchema: schema, databaseUrl: options.databaseUrl ?? DATABASE_URL, fetchAllow: TEST_FETCH_ALLOW, ...options.config });
  const { runtime, events } = await openTestRuntime(prefix, {
    dbSchema: schema,
    config,
    ...(options.rules ? { rules: options.rules } : {}),
    ...(options.components ? { components: options.components(config) } : {}),
    ...(options.fetch ? { capabilities: builtinCapabilities({ fetch: { allow: TEST_FETCH_ALLOW, ...options.fetch } }) } : {}),
  });
  runtime.startAgents(options.agents);
  const service = runtime.requestService();
  return {
    runtime,
    events,
    site,
    prefix,
    schema,
    async run(text, timeoutMs = 20_000) {
      const { session_id } = await service.submit({ text }, "user");
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const record = (await service.workflowRecord(session_id)) as WorkflowRecordLike | null;
        const view = await service.session(session_id);
        // Done when the memory agent's completion is in the audit log too (it is written a moment
        // after the record, in the next audit flush).
        if (view.finished_at && record && view.trace.some((h) => h.event === "completed" && h.from === "memory_agent")) return { view, record };
        if (Date.now() > deadline) throw new Error(`session ${session_id} for "${text}" did not finish with a record: ${JSON.stringify({ status: view.status, error: view.error, hops: view.trace.length })}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await runtime.close();
      await site.close();
      await dropPrefix(prefix);
      await dropSchema(schema);
    },
  };
}
