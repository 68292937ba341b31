import type { Command } from "commander";

/**
 * Registers `postscale init [dir]`: scaffold a cdktf app that manages
 * Postscale access. Never overwrites code: an existing main.ts, cdktf.json
 * or tsconfig.json stops the command (unless --force); package.json and
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
      const { existsSync, mkdirSync, readFileSync, writeFileSync } = await import("node:fs");
      const { basename, join, resolve } = await import("node:path");
      const { ValidationError } = await import("../errors");
      const { scaffoldFiles } = await import("./scaffold");
      const root = resolve(dir);
      mkdirSync(root, { recursive: true });
      const read = (file: string): string | undefined => (existsSync(join(root, file)) ? readFileSync(join(root, file), "utf8") : undefined);
      let files;
      try {
        files = scaffoldFiles(basename(root), read("package.json"));
      } catch (err) {
        throw new ValidationError([{ path: join(root, "package.json"), message: `is not valid JSON (${(err as Error).message}); fix or remove it and run init again` }]);
      }
      const merged = new Set(["package.json", ".gitignore"]);
      const clashes = files.filter((f) => !merged.has(f.path) && read(f.path) !== undefined).map((f) => f.path);
      if (clashes.length > 0 && !options.force) {
        throw new ValidationError(clashes.map((path) => ({ path: join(root, path), message: "already exists; init never overwrites code (use --force to replace it)" })));
      }
      for (const file of files) {
        const before = read(file.path);
        const content = file.path === ".gitignore" && before !== undefined ? mergeLines(before, file.content) : file.content;
        if (content === before) continue;
        writeFileSync(join(root, file.path), content);
        process.stdout.write(`${before === undefined ? "created" : "updated"} ${join(dir, file.path)}\n`);
      }
      process.stdout.write(`\nNext:\n${dir === "." ? "" : `  cd ${dir}\n`}  npm install\n  npm run plan\n`);
    });
}

/** Appends the lines of `add` that `text` lacks. */
function mergeLines(text: string, add: string): string {
  const have = new Set(text.split("\n").map((line) => line.trim()));
  const missing = add.split("\n").filter((line) => line.trim() !== "" && !have.has(line.trim()));
  if (missing.length === 0) return text;
  return `${text.endsWith("\n") || text === "" ? text : `${text}\n`}${missing.join("\n")}\n`;
}
