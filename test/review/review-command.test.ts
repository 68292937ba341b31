import { readFileSync } from "node:fs";
import { register } from "../../src/cli/review.command";
import { CommandRun, runCommand } from "../helpers/cli";
import { fixturePath } from "./fixtures";

/** Runs `postscale review ...` in-process. */
const review = (args: string[], stdin?: string): Promise<CommandRun> => runCommand(register, ["review", ...args], stdin);

const hand = (name: string): string => fixturePath("hand", name);

describe("postscale review", () => {
  test("prints markdown by default and exits 0 without a gate", async () => {
    const run = await review([hand("members-added")]);
    expect(run.stdout.startsWith("### Postscale access review\n")).toBe(true);
    expect(run.exitCode).toBe(0);
  });

  test("--json prints the stable schema", async () => {
    const run = await review([hand("offboarding"), "--json"]);
    const out = JSON.parse(run.stdout);
    expect(Object.keys(out)).toEqual(["summary", "offboarding", "rows", "broadening", "changes", "hints", "drift", "imports", "undeclared", "ephemeralKeys", "effectiveAccess"]);
    expect(Object.keys(out.rows[0])).toEqual(expect.arrayContaining(["sign", "who", "change", "domain", "before", "after", "risk", "broadening"]));
    expect(out.offboarding[0].email).toBe("carol@example.com");
    expect(Object.keys(out.offboarding[0])).toEqual(["email", "role", "grants", "keys", "rotate"]);
  });

  test("reads the plan from stdin with -", async () => {
    const run = await review(["-"], readFileSync(hand("no-change"), "utf8"));
    expect(run.stdout).toBe("No access changes.\n");
  });

  test("--fail-on broadening exits 2 on a broadening plan and 0 on a narrowing-only one", async () => {
    expect((await review([hand("members-added"), "--fail-on", "broadening"])).exitCode).toBe(2);
    expect((await review([hand("offboarding"), "--fail-on", "broadening"])).exitCode).toBe(0);
  });

  test("--fail-on any exits 2 on any access change and 0 when there is none", async () => {
    expect((await review([hand("offboarding"), "--fail-on", "any"])).exitCode).toBe(2);
    const none = await review([hand("no-change"), "--fail-on", "any"]);
    expect(none).toEqual({ stdout: "No access changes.\n", exitCode: 0 });
  });

  test("rejects an unknown --fail-on value and an unreadable file, naming the field", async () => {
    await expect(review([hand("no-change"), "--fail-on", "sometimes"])).rejects.toThrow(/--fail-on: must be one of broadening, any, invariants; got "sometimes"/);
    await expect(review(["/nonexistent/plan.json"])).rejects.toThrow(/\/nonexistent\/plan\.json: cannot be read: ENOENT/);
  });
});
