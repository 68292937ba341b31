/**
 * Runs the engine's `show -json` on a saved plan. The plan is read in the
 * directory it was made in (its working directory holds the providers the
 * engine needs to decode it), and the JSON stays in memory.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { PostscaleError } from "../errors";

/** The engine to use: the flag, then cdktf's TERRAFORM_BINARY_NAME, then tofu or terraform on PATH. */
export function planEngine(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.TERRAFORM_BINARY_NAME) return env.TERRAFORM_BINARY_NAME;
  const dirs = (env.PATH ?? "").split(":").filter(Boolean);
  for (const name of ["tofu", "terraform"]) if (dirs.some((dir) => existsSync(resolve(dir, name)))) return name;
  throw new PostscaleError("POSTSCALE_E_CONFIG", "reading a saved plan needs tofu or terraform on PATH (or --engine <binary>, or TERRAFORM_BINARY_NAME)");
}

export function showPlanJson(planFile: string, engineFlag?: string): Promise<string> {
  const engine = planEngine(engineFlag);
  const cwd = dirname(resolve(planFile));
  return new Promise((resolvePlan, reject) => {
    execFile(engine, ["show", "-json", "-no-color", basename(planFile)], { cwd, maxBuffer: 1 << 30, env: process.env }, (err, stdout, stderr) => {
      if (err) {
        const cause = (err as NodeJS.ErrnoException).code === "ENOENT" ? `${engine} was not found` : stderr.trim() || err.message;
        reject(new PostscaleError("POSTSCALE_E_CONFIG", `${engine} show -json ${planFile} failed: ${cause}`));
        return;
      }
      resolvePlan(stdout);
    });
  });
}
