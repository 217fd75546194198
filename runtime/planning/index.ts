/** Plan logic shared by the planning and dispatch agents. */
export {
  dependants,
  dependantsIndex,
  isReference,
  readyTasks,
  reference,
  referencesOf,
  resolveReferences,
  topologicalOrder,
  type JsonObject,
  type JsonValue,
  type Plan,
  type PlanTask,
  type TaskReference,
  type TaskStatus,
} from "./plan.ts";
export { describeIssues, outputField, requiredInputs, validatePlan, type PlanIssue, type PlanIssueCode, type PlanValidation } from "./validate-plan.ts";
export { analyzeRequest, categoryOf, GOAL_ARTIFACT, GOAL_CATEGORY, type Goal, type RequestAnalysis } from "./request.ts";
export { Branch, cheapest, requiredTypes, TaskList, type ArtifactType, type Source } from "./chain.ts";
export { categoryForPlan, planByTypes, type TypePlanOptions, type TypePlanResult } from "./type-planner.ts";
export { planPrompt } from "./llm-prompt.ts";
export { applyPlanningRules, dispatchEffects, matches, planningEffects, type DispatchEffect, type EffectMatch, type PlanningEffect, type RuleOutcome } from "./rules.ts";
export {
  applyPlan,
  applyResult,
  backoffMs,
  buildReport,
  DEFAULT_RETRY_POLICY,
  isSettled,
  REPORT_LIMITS,
  tally,
  taskContent,
  type Applied,
  type Intent,
  type PlanRun,
  type RetryPolicy,
  type TaskRun,
} from "./run-state.ts";
