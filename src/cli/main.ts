import { Command, CommanderError } from "commander";
import { PostscaleError } from "../errors";

/**
 * The `postscale` command. Each subcommand lives in its own module and is
 * loaded only when used, so `postscale provider ...` never pays for Fastify.
 */
export function buildProgram(): Command {
  const program = new Command("postscale")
    .description("Postscale team access as code: a new project, export of an existing organization, the Terraform provider, access review and checks, and a local API server.")
    .showHelpAfterError()
    .exitOverride();

  // In the order a new user meets them.
  require("./init.command").register(program);
  require("./export.command").register(program);
  require("./provider.command").register(program);
  require("./review.command").register(program);
  require("./check.command").register(program);
  require("./server.command").register(program);
  return program;
}

/** Runs the CLI; the single place where errors become messages and exit codes. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof PostscaleError) {
      process.stderr.write(`postscale: ${err.message}\n`);
      for (const e of err.errors) process.stderr.write(`  ${e.path}: ${e.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
