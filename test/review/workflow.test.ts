import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** The example workflow wires the same commands the demo runs for real (cdktf diff → tofu show -json → postscale review). */
describe("examples/github-actions/postscale-access-review.yml", () => {
  const workflow = parse(readFileSync(join(__dirname, "..", "..", "examples", "github-actions", "postscale-access-review.yml"), "utf8"));
  const steps: { name?: string; run?: string; with?: { script?: string } }[] = workflow.jobs.review.steps;
  const runs = steps.map((s) => s.run ?? "").join("\n");

  it("runs on pull requests and may write the comment, nothing more", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(workflow.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("reviews the plan cdktf diff writes, and gates on broadening last", () => {
    expect(runs).toMatch(/cdktf diff "\$STACK" --skip-provider-lock/);
    expect(runs).toMatch(/show -json plan > plan\.json/);
    expect(runs).toContain('tofu -chdir="cdktf.out/stacks/$STACK"');
    expect(runs).toMatch(/npx postscale review plan\.json\n/);
    expect(steps[steps.length - 1].run).toContain("postscale review plan.json --fail-on broadening");
  });

  it("keeps one sticky comment: the marker it writes is the marker it looks for", () => {
    const marker = runs.match(/echo "(<!-- [a-z-]+ -->)"/)?.[1];
    expect(marker).toBe("<!-- postscale-access-review -->");
    const script = steps.find((s) => s.with?.script)?.with?.script ?? "";
    expect(script).toContain(`const marker = "${marker}"`);
    expect(script).toContain("updateComment");
    expect(script).toContain("createComment");
  });
});
