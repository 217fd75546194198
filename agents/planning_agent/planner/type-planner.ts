/**
 * Deterministic planning by types (no LLM): read what the request gives and what it asks for
 * (request.ts), then chain capabilities from one to the other (chain.ts). One branch per source
 * (each URL, each inline text, each expression); branches share nothing, so dispatch runs them in
 * parallel. Explicit steps the user names run in that order, with missing links filled in. A request
 * that cannot be planned gets a sentence saying what is missing.
 */
import type { CapabilityCatalog, UserRequest } from "../../../runtime/agent-api.ts";
import { Branch, TaskList, type ArtifactType } from "./chain.ts";
import type { JsonValue, Plan } from "../../_shared/plan/plan.ts";
import { analyzeRequest, categoryOf, GOAL_ARTIFACT, GOAL_CATEGORY, type Goal, type RequestAnalysis } from "../../_shared/request.ts";
import { validatePlan, describeIssues } from "../../_shared/plan/validate-plan.ts";

export type TypePlanResult =
  | { ok: true; plan: Plan; analysis: RequestAnalysis; category: string }
  | { ok: false; missing: string; analysis: RequestAnalysis; category: string };

export interface TypePlanOptions {
  planId: string;
}

type PlanRequest = Pick<UserRequest, "text" | "refs" | "category" | "steps">;

export function planByTypes(request: PlanRequest, catalog: CapabilityCatalog, options: TypePlanOptions): TypePlanResult {
  const analysis = analyzeRequest(request);
  const steps = request.steps ?? [];
  const fail = (missing: string, category = analysis.category): TypePlanResult => ({ ok: false, missing, analysis, category });

  const unknownSteps = steps.filter((s) => !catalog.get(s));
  if (unknownSteps.length > 0) {
    return fail(`the request names step${unknownSteps.length > 1 ? "s" : ""} ${unknownSteps.map((s) => `"${s}"`).join(", ")}, which ${unknownSteps.length > 1 ? "are" : "is"} not a capability (known: ${names(catalog)})`);
  }
  // Explicit steps without stated goals: the steps are the plan. Otherwise steps come first, then goals.
  const goals: Goal[] = steps.length > 0 && !analysis.goalsStated ? [] : analysis.goals;
  if (steps.length === 0 && goals.length === 0) return fail(nothingToDo(analysis));

  const list = new TaskList();
  const branches = sources(analysis).map((givens) => ({ givens, branch: new Branch(list, catalog, withShared(givens, analysis)) }));
  if (branches.length === 0) return fail(goals.length > 0 ? missingFor(goals[0] as Goal, analysis) : `the request names steps (${steps.join(", ")}) but gives nothing to run them on: no URL, text or expression`);

  for (const step of steps) {
    const capability = catalog.get(step);
    if (!capability) continue;
    const ran = branches.filter(({ branch }) => branch.run(capability) !== null);
    if (ran.length === 0) {
      const needs = Object.entries(capability.consumes).map(([f, t]) => `${f} (${t})`).join(", ");
      return fail(`step "${step}" needs ${needs}, which the request does not give and no capability yields from what it gives`);
    }
  }
  const reached: Array<{ goal: Goal; branches: number }> = [];
  for (const goal of goals) {
    const type = GOAL_ARTIFACT[goal];
    const able = branches.filter(({ branch }) => branch.canReach(type));
    if (able.length === 0) return fail(missingFor(goal, analysis, type));
    for (const { branch } of able) branch.materialize(type);
    reached.push({ goal, branches: able.length });
  }
  if (list.tasks.length === 0) return fail("the request already gives what it asks for: there is nothing to run");

  const category = request.category ?? (goals.length > 0 ? categoryOf(goals) : stepsCategory(steps, catalog));
  const plan: Plan = {
    plan_id: options.planId,
    tasks: list.tasks as Plan["tasks"],
    rationale: rationale(analysis, steps, reached, branches.filter(({ branch }) => branch.taskIds.length > 0).map(({ givens, branch }) => ({ givens, taskIds: branch.taskIds })), list),
    rules_applied: [],
    request: request.text,
    category,
  };
  const checked = validatePlan(plan, catalog);
  if (!checked.ok) return fail(`the planner built an invalid plan (${describeIssues(checked.issues)}); this is a bug in the capability declarations`);
  return { ok: true, plan, analysis, category };
}

/** The category of any plan, from what its final tasks (those nothing depends on) produce. */
export function categoryForPlan(plan: Pick<Plan, "tasks">, catalog: CapabilityCatalog): string {
  const needed = new Set(plan.tasks.flatMap((t) => t.depends_on));
  const produced = new Set(plan.tasks.filter((t) => !needed.has(t.task_id)).flatMap((t) => Object.values(catalog.get(t.capability)?.produces ?? {})));
  const goals = (["text", "mentions", "summary", "number"] as const).filter((g) => produced.has(GOAL_ARTIFACT[g]));
  return goals.length > 0 ? categoryOf(goals) : "other";
}

/** One map of given artifacts per independent source. */
function sources(a: RequestAnalysis): Array<Map<ArtifactType, JsonValue>> {
  return [
    ...a.urls.map((u) => new Map<ArtifactType, JsonValue>([["url", u]])),
    ...a.texts.map((t) => new Map<ArtifactType, JsonValue>([["text", t]])),
    ...a.expressions.map((e) => new Map<ArtifactType, JsonValue>([["expression", e]])),
  ];
}

/** Terms apply to every branch. */
function withShared(givens: Map<ArtifactType, JsonValue>, a: RequestAnalysis): Map<ArtifactType, JsonValue> {
  const all = new Map(givens);
  if (a.terms.length > 0) all.set("terms", a.terms);
  return all;
}

function missingFor(goal: Goal, a: RequestAnalysis, type = GOAL_ARTIFACT[goal]): string {
  const linkNote = a.urls.length === 0 && a.otherLinks.length > 0 ? ` (${a.otherLinks.join(", ")} ${a.otherLinks.length > 1 ? "are" : "is"} not an http or https URL)` : "";
  const hasSource = a.urls.length > 0 || a.texts.length > 0;
  switch (goal) {
    case "summary":
      if (!hasSource) return `the request asks for a summary but gives no URL or text to summarize${linkNote}`;
      break;
    case "mentions":
      if (a.terms.length === 0) return `the request asks for mentions but names no terms to look for (quote them, e.g. "Redis")`;
      if (!hasSource) return `the request asks for mentions of ${a.terms.map((t) => `"${t}"`).join(", ")} but gives no URL or text to search${linkNote}`;
      break;
    case "number":
      if (a.expressions.length === 0) return "the request asks for a computed number but gives no arithmetic expression (e.g. 12 * (3 + 4))";
      break;
    case "text":
      if (a.urls.length === 0) return `the request asks for page text but gives no URL to read it from${linkNote}`;
      break;
  }
  return `the request asks for ${GOAL_CATEGORY[goal]} (${type}), but no chain of the available capabilities leads there from what it gives`;
}

function nothingToDo(a: RequestAnalysis): string {
  const linkNote = a.otherLinks.length > 0 ? ` (${a.otherLinks.join(", ")}: only http and https URLs can be read)` : "";
  return `the request does not say what it wants and gives nothing to work on${linkNote}: give a URL (http or https) or text, and ask for a summary, mentions of a term, the page text or a calculation`;
}

function stepsCategory(steps: readonly string[], catalog: CapabilityCatalog): string {
  const last = catalog.get(steps[steps.length - 1] ?? "");
  const produced = Object.values(last?.produces ?? {});
  const goal = (Object.keys(GOAL_ARTIFACT) as Goal[]).find((g) => produced.includes(GOAL_ARTIFACT[g]));
  return goal ? GOAL_CATEGORY[goal] : (steps[steps.length - 1] ?? "unknown");
}

function rationale(
  a: RequestAnalysis,
  steps: readonly string[],
  reached: ReadonlyArray<{ goal: Goal; branches: number }>,
  branches: ReadonlyArray<{ givens: Map<ArtifactType, JsonValue>; taskIds: string[] }>,
  list: TaskList,
): string {
  const gives = [
    a.urls.length > 0 ? `${a.urls.length} URL${a.urls.length > 1 ? "s" : ""}` : null,
    a.texts.length > 0 ? `${a.texts.length} inline text${a.texts.length > 1 ? "s" : ""}` : null,
    a.terms.length > 0 ? `terms ${a.terms.map((t) => `"${t}"`).join(", ")}` : null,
    a.expressions.length > 0 ? `expression${a.expressions.length > 1 ? "s" : ""} ${a.expressions.join(", ")}` : null,
  ].filter(Boolean);
  const asks = reached.map((r) => GOAL_LABEL[r.goal]);
  const byId = new Map(list.tasks.map((t) => [t.task_id, t.capability]));
  const lines = branches.map(({ givens, taskIds }) => {
    const from = [...givens.entries()].map(([type, v]) => `${type} ${typeof v === "string" ? truncate(v, 80) : JSON.stringify(v)}`).join(", ");
    return `- from ${from}: ${taskIds.map((id) => `${id} ${byId.get(id) ?? "?"}`).join(" → ")}`;
  });
  return [
    `Planned by capability types (no LLM). The request gives ${gives.join("; ") || "nothing"}${steps.length > 0 ? `, names the steps ${steps.join(" → ")}` : ""}${asks.length > 0 ? ` and asks for ${asks.join(" and ")}` : ""}.`,
    `Shortest chain per source; ${branches.length} independent branch${branches.length === 1 ? "" : "es"}${branches.length > 1 ? " run in parallel" : ""}:`,
    ...lines,
  ].join("\n");
}

const GOAL_LABEL: Readonly<Record<Goal, string>> = { summary: "a summary", mentions: "mentions (passages)", number: "a computed number", text: "the page text" };

function names(catalog: CapabilityCatalog): string {
  return catalog.list().map((c) => c.name).join(", ") || "none";
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
