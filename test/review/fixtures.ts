import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Offboarding, PlanJson, ReviewRow, parsePlanJson } from "../../src/review";

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

/** The columns a reader sees, in table order. */
export function table(rows: ReviewRow[]): string[][] {
  return rows.map((r) => [r.sign, r.who, r.change, r.domain, `${r.before} → ${r.after}`, r.risk]);
}

/**
 * The review table of each scenario, person by person (the person, then
 * grants by domain, then keys by name; organization keys last) that the hand-written and the engine
 * plans both describe (the same changes, planned by hand and by OpenTofu).
 */
export const EXPECTED_TABLES = {
  "members-added": [
    ["+", "alice@example.com", "member added", "all domains", "— → admin", "high"],
    ["+", "bob@example.com", "member added", "—", "— → member", "medium"],
    ["+", "bob@example.com", "grant added", "app.example.com", "— → read_write", "medium"],
    ["+", "bob@example.com", "grant added", "news.example.com", "— → read", "low"],
    ["+", "bob@example.com", "key created: bob-ci", "app.example.com", "— → app.example.com", "medium"],
  ],
  "roles-and-grants": [
    ["+", "dave@example.com", "role changed", "all domains", "member → admin", "high"],
    ["+", "erin@example.com", "grant widened", "app.example.com", "read → read_write", "medium"],
    ["-", "erin@example.com", "grant narrowed", "news.example.com", "read_write → read", "none"],
    ["-", "erin@example.com", "grant removed", "shop.example.com", "read → —", "none"],
    ["-", "frank@example.com", "role changed", "all domains", "admin → member", "none"],
    ["+", "frank@example.com", "grant added", "shop.example.com", "— → read", "low"],
  ],
  "replace-email": [
    ["+", "hal@new.example.com", "member added", "—", "— → member", "medium"],
    ["+", "hal@new.example.com", "grant added", "app.example.com", "— → read_write", "medium"],
    ["-", "hal@old.example.com", "member removed", "—", "member → —", "none"],
    ["-", "hal@old.example.com", "grant removed", "app.example.com", "read_write → —", "none"],
  ],
} as const satisfies Record<string, readonly (readonly string[])[]>;

/** Who leaves in the offboarding scenario, and what leaves with them. */
export const EXPECTED_OFFBOARDING: Offboarding[] = [
  {
    email: "carol@example.com",
    role: "member",
    grants: [
      { domain: "app.example.com", access: "read_write" },
      { domain: "news.example.com", access: "read" },
    ],
    keys: [{ name: "carol-laptop", domains: "app.example.com" }],
    rotate: [],
  },
];
