import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { engineEnv, requireEngine, writeCliConfig } from "../../src/provider/engine";
import { installProvider } from "../../src/provider/install";

/**
 * The synthesized JSON of the flagship example is valid for the real engine
 * against the provider's real schema (`tofu init` + `tofu validate`, offline).
 */
const root = resolve(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "postscale-engine-validate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
jest.setTimeout(180_000);

it("tofu validates the synthesized team-access stack", () => {
  const tofu = requireEngine("tofu");
  installProvider({ dir: join(work, "mirror") });
  writeCliConfig(join(work, "cli.tfrc"), join(work, "mirror"));
  const env = engineEnv({ cliConfigFile: join(work, "cli.tfrc") });

  execFileSync("npx", ["cdktf", "synth", "--output", join(work, "out")], { cwd: root, env, stdio: "pipe" });
  const dir = join(work, "stack");
  mkdirSync(dir);
  copyFileSync(join(work, "out/stacks/team-access/cdk.tf.json"), join(dir, "cdk.tf.json"));

  execFileSync(tofu.binary, ["init", "-input=false", "-no-color"], { cwd: dir, env, stdio: "pipe" });
  const out = execFileSync(tofu.binary, ["validate", "-json", "-no-color"], { cwd: dir, env, encoding: "utf8" });
  expect(JSON.parse(out)).toMatchObject({ valid: true, error_count: 0 });
});
