import type { Command } from "commander";

/**
 * Registers `postscale init [dir]`: scaffold a cdktf app that manages
 * Postscale access. Never overwrites code: a main.ts, cdktf.json
 * or tsconfig.json with other content stops the command (unless --force); package.json and
 * .gitignore are merged.
 */
export function register(program: Command): void {
  program
    .command("init")
    .description("Scaffold a cdktf app that manages Postscale team access (main.ts, cdktf.json, tsconfig.json, package.json scripts, .gitignore).")
    .argument("[dir]", "project folder (created when missing)", ".")
    .option("--force", "overwrite main.ts, cdktf.json and tsconfig.json when they exist")
    .addHelpText("after", "\nThen: npm install, set POSTSCALE_ENDPOINT and POSTSCALE_API_KEY, and npm run plan / npm run deploy.")
    .action(async (dir: string, options: { force?: boolean }) => {
      const { mkdirSync } = await import("node:fs");
      const { basename, join, resolve } = await import("node:path");
      const { ValidationError } = await import("../errors");
      const { scaffoldFiles } = await import("./scaffold");
      const { readProjectFile, writeProjectFiles } = await import("./project-files");
      const root = resolve(dir);
      mkdirSync(root, { recursive: true });
      let files;
      try {
        files = scaffoldFiles(basename(root), readProjectFile(root, "package.json"));
      } catch (err) {
        throw new ValidationError([{ path: join(root, "package.json"), message: `is not valid JSON (${(err as Error).message}); fix or remove it and run init again` }]);
      }
      writeProjectFiles(root, dir, files, { force: options.force, refusal: "init never overwrites code (use --force to replace it)" });
      process.stdout.write(`\nNext:\n${dir === "." ? "" : `  cd ${dir}\n`}  npm install\n  npm run plan\n`);
    });
}
