import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

/**
 * The committed L1 bindings and reference pages are generated from the
 * provider's schema; regenerate both into a temp dir and fail on any drift.
 */
const root = resolve(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "postscale-generated-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  walk(dir);
  return out;
}

function expectSame(committed: string, regenerated: string, fix: string): void {
  const a = files(committed);
  const b = files(regenerated);
  expect({ files: [...a.keys()].sort(), fix }).toEqual({ files: [...b.keys()].sort(), fix });
  for (const [name, text] of b) expect({ name, text: a.get(name), fix }).toEqual({ name, text, fix });
}

jest.setTimeout(120_000);

beforeAll(() => {
  if (!existsSync(join(root, "dist/src/cli/main.js"))) throw new Error("the schema comes from `postscale provider schema --json`: run `npm run build` first");
});

it("src/constructs/generated matches the provider schema", () => {
  execFileSync(process.execPath, [join(root, "scripts/generate-bindings.mjs"), "--out", join(work, "l1")], { stdio: "pipe" });
  expectSame(join(root, "src/constructs/generated"), join(work, "l1"), "run `node scripts/generate-bindings.mjs` and commit the result");
});

it("docs/resources matches the provider schema descriptions", () => {
  execFileSync(process.execPath, [join(root, "scripts/generate-docs.mjs"), "--out", join(work, "docs")], { stdio: "pipe" });
  expectSame(join(root, "docs/resources"), join(work, "docs"), "run `node scripts/generate-docs.mjs` and commit the result");
});
