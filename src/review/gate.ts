import type { AccessReview } from "./review-model";

/** `--fail-on` conditions for a CI gate. */
export const FAIL_ON_VALUES = ["broadening", "any", "invariants"] as const;
export type FailOn = (typeof FAIL_ON_VALUES)[number];

/** The exit code when the gate's condition holds; 1 stays reserved for errors. */
export const GATE_EXIT_CODE = 2;

/** Whether the review trips the gate: any broadening row, any access change at all, or any access rule the result breaks. */
export function gateFails(review: AccessReview, failOn: FailOn | undefined): boolean {
  if (failOn === "broadening") return review.broadening;
  if (failOn === "any") return review.changes;
  if (failOn === "invariants") return (review.invariants?.violations.length ?? 0) > 0;
  return false;
}
