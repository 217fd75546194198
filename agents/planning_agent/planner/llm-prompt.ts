/**
 * The prompt a planner sends an LLM: the request, the capabilities with their artifact types and
 * required inputs, and the wiring convention. The answer must be a `plan` (the LLM client validates
 * it against the schema); the planner then validates its wiring like any plan.
 */
import type { CapabilityCatalog, UserRequest } from "../../../runtime/agent-api.ts";
import { requiredInputs } from "../../_shared/plan/validate-plan.ts";

export function planPrompt(request: Pick<UserRequest, "text" | "refs" | "steps">, catalog: CapabilityCatalog, planId: string): string {
  const capabilities = catalog.list().map((c) => {
    const required = requiredInputs(c);
    const inputs = Object.entries(c.consumes).map(([field, type]) => `${field}: ${type}${required.includes(field) ? "" : " (optional)"}`);
    const outputs = Object.entries(c.produces).map(([field, type]) => `${field}: ${type}`);
    return `- ${c.name}: ${c.description}\n  inputs {${inputs.join(", ")}} → outputs {${outputs.join(", ")}}`;
  });
  const refs = (request.refs ?? []).map((r) => `- ${r.ref_id}: ${r.uri}`);
  return [
    "Plan the user's request as a DAG of capability tasks.",
    "",
    "Request:",
    request.text,
    ...(refs.length > 0 ? ["", "Sources:", ...refs] : []),
    ...(request.steps && request.steps.length > 0 ? ["", `The user asked for these steps, in this order: ${request.steps.join(" → ")}. Keep them.`] : []),
    "",
    "Capabilities (the only ones you may use):",
    ...capabilities,
    "",
    "Rules for the plan:",
    `- plan_id must be "${planId}"; task ids t1, t2, …; rules_applied must be [].`,
    "- Each task: {task_id, capability, inputs, depends_on}. An input is either a literal value from the request,",
    '  or a reference to an earlier task\'s output: {"from_task": "t1", "output": "html"}; the referenced task must be listed in depends_on.',
    "- Give every required input. Use the shortest chain of capabilities from what the request gives to what it asks for.",
    "- One independent branch per source (e.g. per URL), so branches can run in parallel.",
    "- Only http and https URLs can be fetched.",
    "- rationale: one or two sentences on why the plan looks this way.",
    "Answer with the plan JSON only.",
  ].join("\n");
}
