/**
 * examples/ephemeral-deploy-key through `cdktf deploy` on OpenTofu against
 * the local server: the L2 `ephemeralServiceKey` becomes an ephemeral block
 * the engine opens, a second provider reads the domain with that key, and
 * after the run no key of it is left and none is in state.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PostscaleClient } from "../../src/api";
import { requireEngine, writeCliConfig } from "../../src/provider/engine";
import { builtBundlePath, installProvider } from "../../src/provider/install";
import { PROVIDER_VERSION } from "../e2e/harness";
import { CdktfProject, cdktfDeployEnv } from "../helpers/cdktf-deploy";
import { TestServer } from "../helpers/server";

const CDKTF_TIMEOUT_MS = 300_000;
jest.setTimeout(CDKTF_TIMEOUT_MS + 60_000);

describe("cdktf deploy of an ephemeral service key (examples/ephemeral-deploy-key) on OpenTofu", () => {
  let work: string;
  let server: TestServer;
  let project: CdktfProject;

  beforeAll(async () => {
    const engine = requireEngine("tofu");
    const bundle = builtBundlePath();
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` before the end-to-end tests`);
    work = mkdtempSync(join(tmpdir(), "postscale-ephemeral-deploy-"));
    installProvider({ dir: join(work, "mirror"), version: PROVIDER_VERSION, bundle });
    writeCliConfig(join(work, "cli.tfrc"), join(work, "mirror"));
    server = await TestServer.start("pglite");
    project = CdktfProject.copyExample("ephemeral-deploy-key");
  });

  afterAll(async () => {
    await server?.stop();
    project?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the run's key reads the domain, is revoked at the end, and is in no state", async () => {
    const engine = requireEngine("tofu");
    const env = cdktfDeployEnv({ engineDir: dirname(engine.binary), engineName: engine.name, cliConfigFile: join(work, "cli.tfrc"), endpoint: server.url, apiKey: server.ownerKey });
    const client = new PostscaleClient({ endpoint: server.url, apiKey: server.ownerKey, retries: 0 });
    const before = new Set((await client.listApiKeys()).map((k) => k.id));
    const outputsFile = join(work, "outputs.json");
    await project.run(["deploy", "--auto-approve", "--skip-provider-lock", "--no-color", "--outputs-file", outputsFile], env, CDKTF_TIMEOUT_MS);

    const outputs = JSON.parse(readFileSync(outputsFile, "utf8"))["ephemeral-deploy-key"];
    expect(outputs.app_status).toEqual(expect.any(String));
    // Every key the run minted (one per phase) was revoked when the phase closed it.
    const left = (await client.listApiKeys()).filter((k) => !before.has(k.id));
    await client.close();
    expect(left).toEqual([]);
    const states = readdirSync(project.dir).filter((f) => f.endsWith(".tfstate"));
    expect(states).toHaveLength(1);
    const state = readFileSync(join(project.dir, states[0]), "utf8");
    expect(state).not.toMatch(/ps_[A-Za-z0-9_-]{20,}/);
    expect(state).not.toContain("ephemeral");
  });
});
