/**
 * The HCL examples the docs point at (examples/provider, examples/resources,
 * examples/data-sources) are valid for the real engine and our provider's
 * schema and validation, so copying one never starts with an error.
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { e2eEngines, startHarness, type Harness } from "./harness";

jest.setTimeout(180_000);

const examples = join(__dirname, "..", "..", "examples");

function terraformFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return terraformFiles(path);
    return name.endsWith(".tf") ? [path] : [];
  });
}

describe.each(e2eEngines())("HCL examples on %s", (engineName) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness(engineName);
  });

  afterAll(async () => {
    await harness?.close();
  });

  test("provider, resource and data source examples validate together", async () => {
    // Write-only attributes and ephemeral variables parse on OpenTofu 1.11+ and Terraform 1.11+ only.
    const writeOnly = (file: string) => readFileSync(file, "utf8").includes("secret_wo");
    const files = ["provider", "resources", "data-sources"].flatMap((d) => terraformFiles(join(examples, d))).filter((f) => engineName === "tofu" || !writeOnly(f));
    expect(files.length).toBeGreaterThanOrEqual(6);
    const ws = harness.workspace("provider-only");
    for (const f of readdirSync(ws.dir)) if (f.endsWith(".tf")) rmSync(join(ws.dir, f));
    files.forEach((file, i) => ws.writeFile(`${i}-${file.split("/").slice(-2).join("-")}`, readFileSync(file, "utf8")));
    await ws.init();
    const result = await ws.run(["validate"]);
    expect(result.output).toContain("The configuration is valid.");
  });

  test("every resource example has an import.sh with an id the resource accepts", () => {
    for (const type of readdirSync(join(examples, "resources"))) {
      const script = readFileSync(join(examples, "resources", type, "import.sh"), "utf8");
      expect(script).toMatch(new RegExp(`^tofu import ${type}\\.\\w+ \\S+$`, "m"));
    }
  });
});
