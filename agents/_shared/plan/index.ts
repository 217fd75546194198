/** The plan model shared by the planning and dispatch agents: the DAG, its validation, the rule effects. */
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
export { applyPlanningRules, dispatchEffects, matches, planningEffects, type DispatchEffect, type EffectMatch, type PlanningEffect, type RuleOutcome } from "./rules.ts";
