/** A value nested far too deep to record as it is: refused, dead-lettered and audited as a note. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../runtime/runtime.ts";
import { verifyAudit } from "../../runtime/store/verify.ts";
import { dropPrefix, dropSchema, openTestRuntime, uniquePrefix, uniqueSchema } from "../helpers/bus.ts";

const prefix = uniquePrefix("deep");
const schema = uniqueSchema("deep");
let runtime: Runtime;

beforeAll(async () => {
  ({ runtime } = await openTestRuntime(prefix, { dbSchema: schema }));
});
afterAll(async () => {
  await runtime?.close();
  await dropPrefix(prefix);
  await dropSchema(schema);
});

function deep(levels: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { a: "bottom" };
  for (let i = 1; i < levels; i++) inner = { a: inner };
  return inner;
}

describe("publishing a value 100,000 levels deep", () => {
  it("is refused by the depth guard and recorded as a note, without overflowing the stack", async () => {
    const value = { message_id: "msg-user-20261201-100000-deep", ...deep(100_000) };
    const result = await runtime.bus.publish(value);
    expect(result.accepted).toBe(false);
    if (result.accepted) return;
    expect(result.issues[0]).toMatchObject({ rule: "guard", message: "nesting is deeper than 32 levels" });
    const letter = await runtime.bus.deadLetters.get(result.dead_letter_id);
    expect(letter.envelope).toEqual({ not_stored: "nested deeper than 512 levels; refused and kept as this note", message_id: "msg-user-20261201-100000-deep" });
    await runtime.store!.audit.flush();
    const r = await runtime.store!.db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".audit_log WHERE outcome = 'dead_lettered'`);
    expect(Number(r.rows[0]?.n)).toBe(1);
    expect((await verifyAudit(runtime.store!.db)).ok).toBe(true);
  });
});
