/**
 * `postscale provider install` and `postscale provider schema --json`,
 * checked against the engines: the installed launcher is what `init`
 * finds, the schema printed without an engine equals the engine's own
 * `providers schema -json`, and a rebuilt provider at the same version
 * (lock-file hash drift) installs again once its lock entry is dropped.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { dropProviderLock } from "../../src/provider/engine";
import { INSTALLED_BUNDLE_NAME, NODE_FLAGS, REGISTRY_HOSTS, SERVER_BUNDLE_NAME, builtBundlePath, enginePlatform, installProvider, interpreterLine } from "../../src/provider/install";
import { postscaleProvider } from "../../src/provider/provider";
import { providerSchemasJson } from "../../src/provider/schema-json";
import { CODE_CACHE_FILE } from "../../src/provider/server-bundle";
import { connect } from "../provider/protocol/grpc-client";
import { PROVIDER_VERSION, e2eEngines, startHarness, type Harness } from "./harness";

jest.setTimeout(120_000);

const CLI = join(__dirname, "..", "..", "bin", "postscale.js");

describe("postscale provider (CLI)", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "postscale-install-"));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("install writes a launcher and the bundle under both registry hosts", () => {
    const out = execFileSync(process.execPath, [CLI, "provider", "install", "--dir", dir, "--version", "1.2.3"], { encoding: "utf8" });
    for (const host of REGISTRY_HOSTS) {
      const packageDir = join(dir, host, "postscale", "postscale", "1.2.3", enginePlatform());
      const launcher = join(packageDir, "terraform-provider-postscale_v1.2.3");
      expect(out).toContain(launcher);
      expect(statSync(launcher).mode & 0o111).toBe(0o111);
      // node runs the entry bundle itself: no shell between the engine and node.
      const firstLine = `#!${[process.execPath, ...NODE_FLAGS].join(" ")}\n`;
      expect(readFileSync(launcher, "utf8")).toBe(firstLine + readFileSync(builtBundlePath(), "utf8"));
      expect(existsSync(join(packageDir, INSTALLED_BUNDLE_NAME))).toBe(false);
      expect(readFileSync(join(packageDir, SERVER_BUNDLE_NAME))).toEqual(readFileSync(join(dirname(builtBundlePath()), SERVER_BUNDLE_NAME)));
      expect(statSync(join(packageDir, CODE_CACHE_FILE)).size).toBeGreaterThan(10_000);
      // The engine runs the first file with this prefix: only the launcher may have it.
      expect(readdirSync(packageDir).filter((name) => name.startsWith("terraform-provider-postscale"))).toEqual(["terraform-provider-postscale_v1.2.3"]);
    }
  });

  test("where node cannot be the interpreter line, the launcher is a script that execs node on a copy of the entry", () => {
    expect(interpreterLine("/opt/my node/bin/node")).toBeNull();
    expect(interpreterLine(`/${"x".repeat(130)}/node`)).toBeNull();
    const spaced = join(dir, "node with space");
    mkdirSync(spaced, { recursive: true });
    const node = join(spaced, "node");
    symlinkSync(process.execPath, node);
    const result = installProvider({ dir: join(dir, "spaced"), version: "1.2.4", node });
    const packageDir = dirname(result.launchers[0]);
    const script = readFileSync(result.launchers[0], "utf8");
    expect(script).toMatch(/^#!\/bin\/sh\nexec /);
    expect(script).toContain(`'${node}'`);
    expect(readFileSync(join(packageDir, INSTALLED_BUNDLE_NAME))).toEqual(readFileSync(builtBundlePath()));
    const env = { ...process.env };
    delete env.TF_PLUGIN_MAGIC_COOKIE;
    const run = spawnSync(result.launchers[0], [], { env, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/provider plugin/);
  });

  test("the code cache beside the server bundle is that bundle's SHA-256, then V8 data the launcher's node accepts", () => {
    const packageDir = join(dir, REGISTRY_HOSTS[0], "postscale", "postscale", "1.2.3", enginePlatform());
    const bundle = readFileSync(join(packageDir, SERVER_BUNDLE_NAME));
    const cache = readFileSync(join(packageDir, CODE_CACHE_FILE));
    expect(cache.subarray(0, 32).toString("hex")).toBe(createHash("sha256").update(bundle).digest("hex"));
    // Checked with vm directly, not through the provider's loader.
    const probe = [
      'const { readFileSync } = require("node:fs");',
      'const { Script } = require("node:vm");',
      'const { wrap } = require("node:module");',
      "const [bundle, cache] = process.argv.slice(1);",
      'const script = new Script(wrap(readFileSync(bundle, "utf8")), { filename: bundle, cachedData: readFileSync(cache).subarray(32) });',
      "process.stdout.write(String(script.cachedDataRejected));",
    ].join("\n");
    expect(execFileSync(process.execPath, ["-e", probe, join(packageDir, SERVER_BUNDLE_NAME), join(packageDir, CODE_CACHE_FILE)], { encoding: "utf8" })).toBe("false");
  });

  test("installing the same build again keeps the code cache's bytes (the lock file's hash stays valid)", () => {
    const packageDir = join(dir, REGISTRY_HOSTS[0], "postscale", "postscale", "1.2.3", enginePlatform());
    const before = readFileSync(join(packageDir, CODE_CACHE_FILE));
    installProvider({ dir, version: "1.2.3" });
    for (const host of REGISTRY_HOSTS) {
      expect(readFileSync(join(dir, host, "postscale", "postscale", "1.2.3", enginePlatform(), CODE_CACHE_FILE)).equals(before)).toBe(true);
    }
  });

  // "stale": the bundle changed but kept its length, which is all V8 itself checks.
  test.each([
    ["used", (_packageDir: string) => undefined],
    ["rejected", (packageDir: string) => {
      const cache = readFileSync(join(packageDir, CODE_CACHE_FILE));
      writeFileSync(join(packageDir, CODE_CACHE_FILE), Buffer.concat([cache.subarray(0, 32), Buffer.from("not V8 data")]));
    }],
    ["stale", (packageDir: string) => {
      const file = join(packageDir, SERVER_BUNDLE_NAME);
      const source = readFileSync(file, "utf8");
      expect(source.startsWith('"use strict";')).toBe(true);
      writeFileSync(file, `'use strict';${source.slice('"use strict";'.length)}`);
    }],
  ])("the provider serves with its code cache %s", async (expected, damage) => {
    const result = installProvider({ dir: join(dir, `cache-${expected}`), version: "1.2.5" });
    damage(dirname(result.launchers[0]));
    const { TF_PLUGIN_MAGIC_COOKIE: _cookie, PLUGIN_CLIENT_CERT: _cert, ...base } = process.env;
    const child = spawn(result.launchers[0], [], {
      env: { ...base, TF_PLUGIN_MAGIC_COOKIE: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2", PLUGIN_PROTOCOL_VERSIONS: "6", TF_LOG_PROVIDER: "debug" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          out += d;
          if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
        });
        child.on("exit", () => reject(new Error(`provider exited before the handshake: ${err}`)));
      });
      const clients = connect(`unix:${line.split("|")[3]}`);
      try {
        const metadata = await clients.provider("GetMetadata");
        expect(metadata.resources.map((r: { type_name: string }) => r.type_name)).toContain("postscale_team_member");
        const schema = await clients.provider("GetProviderSchema");
        expect(Object.keys(schema.resource_schemas)).toContain("postscale_api_key");
      } finally {
        clients.close();
      }
      expect(err).toMatch(new RegExp(`"@message":"provider code loaded".*"codeCache":"${expected}"`));
    } finally {
      child.kill("SIGTERM");
    }
  });

  test("install refuses a version that is not semantic", () => {
    expect(() => installProvider({ dir, version: "latest" })).toThrow(/--version must be a semantic version/);
  });

  test("the launcher runs the provider, which says it is a plugin when started by hand", () => {
    const launcher = join(dir, REGISTRY_HOSTS[0], "postscale", "postscale", "1.2.3", enginePlatform(), "terraform-provider-postscale_v1.2.3");
    const env = { ...process.env };
    delete env.TF_PLUGIN_MAGIC_COOKIE;
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(launcher, [], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toMatch(/provider plugin/);
  });

  test("schema --json prints the definition's schema", () => {
    const out = execFileSync(process.execPath, [CLI, "provider", "schema", "--json"], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual(providerSchemasJson(postscaleProvider));
  });
});

describe.each(e2eEngines())("the provider installed for %s", (engineName) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness(engineName);
  });

  afterAll(async () => {
    await harness?.close();
  });

  test("`providers schema -json` of the engine equals the schema printed without it", async () => {
    const ws = harness.workspace("provider-only");
    await ws.init();
    const result = await ws.run(["providers", "schema", "-json"]);
    const host = engineName === "tofu" ? "registry.opentofu.org" : "registry.terraform.io";
    // The pinned Terraform (1.5.7) predates ephemeral resources and write-only attributes and leaves them out.
    const modern = engineName === "tofu";
    expect(JSON.parse(result.stdout)).toEqual(providerSchemasJson(postscaleProvider, host, { ephemeral: modern, writeOnly: modern }));
  });

  test("a provider rebuilt at the same version installs again once its lock entry is dropped", async () => {
    const ws = harness.workspace("provider-only");
    await ws.init();
    const lockFile = join(ws.dir, ".terraform.lock.hcl");
    expect(readFileSync(lockFile, "utf8")).toContain("postscale/postscale");

    // Same version, different bytes: what a rebuild produces.
    for (const host of REGISTRY_HOSTS) {
      appendFileSync(join(harness.mirrorDir, host, "postscale", "postscale", PROVIDER_VERSION, enginePlatform(), SERVER_BUNDLE_NAME), "\n// rebuilt\n");
    }
    const drifted = await ws.run(["init"], [1]);
    expect(drifted.output).toMatch(/checksum|does not match|doesn't match/i);

    expect(dropProviderLock(ws.dir)).toBe(true);
    expect(existsSync(lockFile)).toBe(true);
    expect(readFileSync(lockFile, "utf8")).not.toContain("postscale/postscale");
    await ws.init();
    expect(readFileSync(lockFile, "utf8")).toContain("postscale/postscale");
  });
});
