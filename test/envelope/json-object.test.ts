/**
 * One JsonObject: the schemas' json_object, as generated. The envelope types, the handler types and
 * the agent API all name that one type; no hand-written copy remains.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { JsonObject as ApiJsonObject, JsonValue as ApiJsonValue } from "../../runtime/agent-api.ts";
import type { JsonObject, JsonValue } from "../../runtime/envelope/types.ts";
import type { HandlerInput } from "../../runtime/agents/handler.ts";
import type { JsonObject as FromTask, JsonValue as ValueFromTask } from "../../runtime/schemas/generated/content_task.ts";
import type { JsonObject as FromPlan } from "../../runtime/schemas/generated/content_plan.ts";
import type { JsonObject as FromActionResult } from "../../runtime/schemas/generated/content_action_result.ts";
import type { JsonObject as FromDispatchReport } from "../../runtime/schemas/generated/content_dispatch_report.ts";
import { PROJECT_ROOT } from "../../runtime/paths.ts";

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const full = join(dir, e);
    return statSync(full).isDirectory() ? tsFiles(full) : e.endsWith(".ts") ? [full] : [];
  });
}

describe("JsonObject", () => {
  it("is the generated type everywhere (checked by tsc: a Record<string, unknown> would not be equal)", () => {
    expectTypeOf<JsonObject>().toEqualTypeOf<FromTask>();
    expectTypeOf<JsonValue>().toEqualTypeOf<ValueFromTask>();
    expectTypeOf<ApiJsonObject>().toEqualTypeOf<FromTask>();
    expectTypeOf<ApiJsonValue>().toEqualTypeOf<ValueFromTask>();
    expectTypeOf<HandlerInput["content"]>().toEqualTypeOf<FromTask>();
    // The generator writes one copy per schema that uses json_object; they are the same type.
    expectTypeOf<FromPlan>().toEqualTypeOf<FromTask>();
    expectTypeOf<FromActionResult>().toEqualTypeOf<FromTask>();
    expectTypeOf<FromDispatchReport>().toEqualTypeOf<FromTask>();
    expectTypeOf<Record<string, unknown>>().not.toEqualTypeOf<JsonObject>();
  });

  it("has no hand-written declaration in runtime/ or agents/ (only the generated ones)", () => {
    const declared = ["runtime", "agents"]
      .flatMap((d) => tsFiles(join(PROJECT_ROOT, d)))
      .filter((f) => !f.includes(`${sep}generated${sep}`))
      .filter((f) => /^\s*(?:export\s+)?(?:type\s+JsonObject\s*=|interface\s+JsonObject\b)/m.test(readFileSync(f, "utf8")))
      .map((f) => relative(PROJECT_ROOT, f));
    expect(declared).toEqual([]);
  });
});
