import type { Command } from "commander";

/** Reads the plan JSON from a path, or from standard input for `-`. */
async function readInput(source: string): Promise<string> {
  if (source !== "-") {
    const { readFile } = await import("node:fs/promises");
    const { ValidationError } = await import("../errors");
    try {
      return await readFile(source, "utf8");
    } catch (err) {
      throw new ValidationError([{ path: source, message: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Registers `postscale review <plan.json>`: the access review of a plan
 * (`tofu show -json <planfile>` output). Exit codes: 0 reviewed, 2 the
 * `--fail-on` condition holds, 1 bad input.
 */
export function register(program: Command): void {
  program
    .command("review")
    .description("Review the access changes in a plan: `tofu show -json <planfile>` output (Terraform and cdktf plans too).")
    .argument("<plan>", "plan JSON file, or - to read standard input")
    .option("--json", "print the review as JSON for tools instead of markdown")
    .option("--fail-on <condition>", "exit 2 when the plan has: broadening (any change that can widen access) or any (any access change)")
    .addHelpText(
      "after",
      "\nExit codes: 0 reviewed (gate not tripped), 2 the --fail-on condition holds, 1 the input is not a plan.\n\nExample:\n  tofu plan -out=plan.tfplan && tofu show -json plan.tfplan > plan.json\n  postscale review plan.json --fail-on broadening",
    )
    .action(async (source: string, options: { json?: boolean; failOn?: string }) => {
      const { ValidationError } = await import("../errors");
      const review = await import("../review");
      if (options.failOn !== undefined && !(review.FAIL_ON_VALUES as readonly string[]).includes(options.failOn)) {
        throw new ValidationError([{ path: "--fail-on", message: `must be one of ${review.FAIL_ON_VALUES.join(", ")}; got "${options.failOn}"` }]);
      }
      const plan = review.parsePlanJson(await readInput(source), source === "-" ? "stdin" : source);
      const result = review.reviewPlan(plan);
      process.stdout.write(options.json ? review.renderJson(result) : review.renderMarkdown(result));
      if (review.gateFails(result, options.failOn as "broadening" | "any" | undefined)) process.exitCode = review.GATE_EXIT_CODE;
    });
}
