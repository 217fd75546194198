/** The scheduled retention job prunes old delivered rows and the chains still verify. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRequest } from "../../runtime/envelope/build.ts";
import { systemClock } from "../../runtime/envelope/clock.ts";
import type { Envelope } from "../../runtime/envelope/types.ts";
import type { Runtime } from "../../runtime/runtime.ts";
import { verifyAudit } from "../../runtime/store/verify.ts";
import { maintenanceComponent } from "../../runtime/audit/component.ts";
import { dropPrefix, dropSchema, openTestRuntime, testConfig, uniquePrefix, uniqueSchema, DATABASE_URL, type EventLog } from "../helpers/bus.ts";

const prefix = uniquePrefix("retain");
const schema = uniqueSchema("retain");
let runtime: Runtime;
let events: EventLog;
const maintenance = maintenanceComponent();

beforeAll(async () => {
  // Every second, prune delivered rows older than one second.
  const config = testConfig(prefix, { dbSchema: schema, databaseUrl: DATABASE_URL, auditRetention: "PT1S", retentionCron: "* * * * * *" });
  ({ runtime, events } = await openTestRuntime(prefix, { dbSchema: schema, config }));
  runtime.startAgents(["echo_agent"]);
});

afterAll(async () => {
  await maintenance.close();
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

describe("the audit retention job", () => {
  it("runs on its schedule, turns old delivered rows into stubs, and verification still passes", async () => {
    const req = buildRequest({ content_type: "user_request", content: { text: "keep me short" }, to: "echo_agent" }, { clock: systemClock, timezone: "UTC" });
    await runtime.bus.publish(req);
    await events.waitFor((e) => e.kind === "completed" && (e.envelope as Envelope).metadata.session_id === req.metadata.session_id);
    await runtime.store!.audit.flush();
    // Started once the session is done, so the first run finds its rows old.
    await maintenance.start(runtime);

    const deadline = Date.now() + 15_000;
    let result = await verifyAudit(runtime.store!.db);
    while (result.pruned === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      result = await verifyAudit(runtime.store!.db);
    }
    expect(result).toMatchObject({ ok: true, pruned: 1, rows: 2 });
    const outcomes = await runtime.store!.db.query<{ outcome: string }>(`SELECT outcome FROM "${schema}".audit_log ORDER BY id`);
    expect(outcomes.rows.map((r) => r.outcome)).toEqual(["published", "completed"]);
  });
});
