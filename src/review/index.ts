/**
 * Access review of a Terraform/OpenTofu plan: `tofu show -json` output in,
 * a permission diff out (markdown for PR comments, JSON for CI).
 */
export { parsePlanJson, checkPlanJson } from "./plan-json";
export type { PlanJson, ResourceChange } from "./plan-json";
export { reviewPlan, compareRows, type ReviewOptions } from "./review-plan";
export { plannedAccess, type PlannedAccess, type PlannedPerson, type PlannedKey } from "./plan-access";
export { effectiveAccess } from "./effective-access";
export { renderMarkdown, renderJson, summaryLine, escapeMarkdown, NO_ACCESS_CHANGES } from "./render-markdown";
export { gateFails, FAIL_ON_VALUES, GATE_EXIT_CODE } from "./gate";
export type { FailOn } from "./gate";
export * from "./review-model";
