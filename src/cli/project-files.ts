import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ValidationError } from "../errors";
import { mergeLines, type ScaffoldFile } from "./scaffold";

/** Files merged into what is there instead of replaced: package.json (by scaffoldFiles) and .gitignore (by lines). */
const MERGED = new Set(["package.json", ".gitignore"]);

/** The text of `file` under `root`, or undefined. */
export function readProjectFile(root: string, file: string): string | undefined {
  return existsSync(join(root, file)) ? readFileSync(join(root, file), "utf8") : undefined;
}

/**
 * Writes `files` under `root` and prints "created"/"updated" lines with
 * paths under `shown` (the folder as the user typed it). A file that exists
 * with other content stops everything before anything is written, unless
 * `force`; `refusal` says why (e.g. "init never overwrites code").
 */
export function writeProjectFiles(root: string, shown: string, files: readonly ScaffoldFile[], options: { force?: boolean; refusal: string }): void {
  const clashes = files.filter((f) => !MERGED.has(f.path) && (readProjectFile(root, f.path) ?? f.content) !== f.content).map((f) => f.path);
  if (clashes.length > 0 && !options.force) {
    throw new ValidationError(clashes.map((path) => ({ path: join(root, path), message: `already exists; ${options.refusal}` })));
  }
  for (const file of files) {
    const before = readProjectFile(root, file.path);
    const content = file.path === ".gitignore" && before !== undefined ? mergeLines(before, file.content) : file.content;
    if (content === before) continue;
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), content);
    process.stdout.write(`${before === undefined ? "created" : "updated"} ${join(shown, file.path)}\n`);
  }
}
