import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PlanJson, parsePlanJson } from "../../src/review";

/** Where the plan fixtures live: `engine/` holds real OpenTofu output, `hand/` hand-written ones. */
export const FIXTURES = join(__dirname, "fixtures");

/** The API key secret planted in the key fixtures: it must never reach any output. */
export const PLANTED_SECRET = "ps_live_HANDFIXTURESECRET0123456789";

export function fixturePath(set: "hand" | "engine", name: string): string {
  return join(FIXTURES, set, `${name}.json`);
}

/** A fresh, parsed copy of a fixture (tests may edit it). */
export function loadPlan(set: "hand" | "engine", name: string): PlanJson {
  return parsePlanJson(readFileSync(fixturePath(set, name), "utf8"));
}
