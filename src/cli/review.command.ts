import type { Command } from "commander";

const ZIP_MAGIC = Buffer.from("PK\x03\x04", "latin1");

/**
 * Reads the plan JSON from a path, or from standard input for `-`. A saved
 * binary plan (a zip archive) is turned into JSON by the engine's
 * `show -json`, in memory, so no secret-bearing JSON is written to disk.
 */
async function readInput(source: string, engine: string | undefined): Promise<string> {
  if (source !== "-") {
    const { readFile } = await import("node:fs/promises");
    const { ValidationError } = await import("../errors");
    let bytes: Buffer;
    try {
      bytes = await readFile(source);
    } catch (err) {
      throw new ValidationError([{ path: source, message: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
    if (bytes.subarray(0, 4).equals(ZIP_MAGIC)) return (await import("./plan-show")).showPlanJson(source, engine);
    return bytes.toString("utf8");
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
    .description("Review the access changes in a plan: a saved plan (tofu/terraform plan -out, cdktf diff) or its `show -json` output.")
    .argument("<plan>", "a saved plan (tofu/terraform plan -out, cdktf's cdktf.out/stacks/<stack>/plan), its `show -json` output, or - to read JSON from standard input")
    .option("--engine <binary>", "engine that reads a saved plan (default: $TERRAFORM_BINARY_NAME, else tofu, else terraform on PATH)")
    .option("--json", "print the review as JSON for tools instead of markdown")
    .option("--rules <file>", "check the access after the plan against these access rules (access-rules.json, which AccessRules writes at synth)")
    .option("--fail-on <condition>", "exit 2 when the plan has: broadening (any change that can widen access), any (any access change) or invariants (the access after it breaks a --rules rule)")
    .addHelpText(
      "after",
      "\nExit codes: 0 reviewed (gate not tripped), 2 the --fail-on condition holds, 1 the input is not a plan or the rules file is invalid.\n\nExample:\n  tofu plan -out=plan.tfplan\n  postscale review plan.tfplan --fail-on broadening\n  postscale review cdktf.out/stacks/access/plan --rules cdktf.out/stacks/access/access-rules.json --fail-on invariants",
    )
    .action(async (source: string, options: { json?: boolean; failOn?: string; engine?: string; rules?: string }) => {
      const { ValidationError } = await import("../errors");
      const review = await import("../review");
      if (options.failOn !== undefined && !(review.FAIL_ON_VALUES as readonly string[]).includes(options.failOn)) {
        throw new ValidationError([{ path: "--fail-on", message: `must be one of ${review.FAIL_ON_VALUES.join(", ")}; got "${options.failOn}"` }]);
      }
      if (options.failOn === "invariants" && options.rules === undefined) {
        throw new ValidationError([{ path: "--fail-on", message: "invariants needs --rules <file>: the access rules to check" }]);
      }
      const rules = options.rules === undefined ? undefined : await (await import("./rules-file")).readRulesFile(options.rules);
      const plan = review.parsePlanJson(await readInput(source, options.engine), source === "-" ? "stdin" : source);
      const result = review.reviewPlan(plan, { rules });
      process.stdout.write(options.json ? review.renderJson(result) : review.renderMarkdown(result));
      if (review.gateFails(result, options.failOn as import("../review").FailOn | undefined)) process.exitCode = review.GATE_EXIT_CODE;
    });
}
