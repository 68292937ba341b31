#!/usr/bin/env node
/**
 * Generates, from the pinned protocol:
 * - `.gen/tfplugin6.json`: the protobuf descriptor (protobufjs JSON form),
 *   which the tests' grpc-js clients load by reflection;
 * - `.gen/tfplugin6-codecs.js`: static encoders and decoders for every
 *   message (protobufjs-cli's `static-module` target), which the provider's
 *   RPC server uses, so that no codec is built from a descriptor when a
 *   provider process starts (the engine starts one three times per plan);
 * - `.gen/tfplugin6-methods.json`: each served method's path, its request
 *   and response message names, and whether it streams its responses.
 *
 * - tfplugin6 comes from the OpenTofu Go module pinned in tools/tofu (its
 *   `docs/plugin-protocol/tfplugin6.10.proto`), located with
 *   `go mod download -json`, so the protocol always matches the engine we
 *   build and test against. The .proto is read in place, never copied.
 * - The go-plugin side services (plugin.GRPCController, plugin.GRPCStdio)
 *   and grpc.health.v1.Health are small and stable; they are declared here
 *   with protobufjs reflection instead of vendoring their .proto files.
 *
 * The output is deterministic (same inputs, same bytes) and git-ignored.
 * Run: `node scripts/build-proto.mjs` (part of `npm run build`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const OPENTOFU_MODULE = "github.com/opentofu/opentofu@v1.12.6";
const PROTO_IN_MODULE = "docs/plugin-protocol/tfplugin6.10.proto";
const OUTPUT = join(repoRoot, ".gen", "tfplugin6.json");
const CODECS = join(repoRoot, ".gen", "tfplugin6-codecs.js");
const METHODS = join(repoRoot, ".gen", "tfplugin6-methods.json");

// proto-loader's own protobufjs, so the JSON matches what `fromJSON` reads.
const requireFromLoader = createRequire(require_resolve("@grpc/proto-loader"));
const protobuf = requireFromLoader("protobufjs");

function require_resolve(id) {
  return createRequire(join(repoRoot, "package.json")).resolve(id);
}

/** Absolute path of the pinned OpenTofu module, downloaded into Go's module cache if needed. */
function openTofuModuleDir() {
  let out;
  try {
    out = execFileSync("go", ["mod", "download", "-json", OPENTOFU_MODULE], {
      cwd: join(repoRoot, "tools", "tofu"),
      env: { ...process.env, GOFLAGS: [process.env.GOFLAGS, "-mod=mod"].filter(Boolean).join(" ") },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const detail = err.stdout || err.stderr || err.message;
    throw new Error(`build-proto: cannot locate ${OPENTOFU_MODULE} with "go mod download -json" in tools/tofu: ${detail}`);
  }
  const info = JSON.parse(out);
  if (info.Error || !info.Dir) {
    throw new Error(`build-proto: go mod download reported no directory for ${OPENTOFU_MODULE}: ${info.Error ?? out}`);
  }
  return info.Dir;
}

/** plugin.GRPCController, plugin.GRPCStdio and grpc.health.v1.Health, declared by reflection. */
function addGoPluginServices(root) {
  const { Enum, Field, Method, Namespace, Service, Type } = protobuf;

  const plugin = new Namespace("plugin");
  plugin.add(new Type("Empty"));
  plugin.add(
    new Type("StdioData")
      .add(new Enum("Channel", { INVALID: 0, STDOUT: 1, STDERR: 2 }))
      .add(new Field("channel", 1, "Channel"))
      .add(new Field("data", 2, "bytes")),
  );
  plugin.add(new Service("GRPCController").add(new Method("Shutdown", "rpc", "Empty", "Empty")));
  plugin.add(new Service("GRPCStdio").add(new Method("StreamStdio", "rpc", "Empty", "StdioData", false, true)));
  root.add(plugin);

  const health = new Namespace("v1");
  health.add(new Type("HealthCheckRequest").add(new Field("service", 1, "string")));
  health.add(
    new Type("HealthCheckResponse")
      .add(new Enum("ServingStatus", { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 }))
      .add(new Field("status", 1, "ServingStatus")),
  );
  health.add(
    new Service("Health")
      .add(new Method("Check", "rpc", "HealthCheckRequest", "HealthCheckResponse"))
      .add(new Method("Watch", "rpc", "HealthCheckRequest", "HealthCheckResponse", false, true)),
  );
  root.define("grpc.health").add(health);
}

/**
 * tfplugin6.Schema.Object is renamed for the static code only: pbjs names
 * each generated constructor after its message, and a function called
 * `Object` shadows the global inside its own closure (its enum's
 * `Object.create` then calls the message's `create`). Message names are not
 * on the wire (fields are numbered), so the bytes are the same.
 */
const RENAMED_FOR_STATIC_CODE = { from: "tfplugin6.Schema.Object", to: "ObjectType" };

function renameForStaticCode(root) {
  const type = root.lookupType(RENAMED_FOR_STATIC_CODE.from);
  const users = [];
  root.nestedArray.forEach(function visit(node) {
    if (node instanceof protobuf.Type) {
      for (const field of node.fieldsArray) if (field.resolvedType === type) users.push(field);
    }
    node.nestedArray?.forEach(visit);
  });
  const parent = type.parent;
  parent.remove(type);
  type.name = RENAMED_FOR_STATIC_CODE.to;
  parent.add(type);
  for (const field of users) field.type = type.fullName.slice(1);
  root.resolveAll();
}

/** Writes CODECS with pbjs from the (renamed) descriptor; the .proto's comments are left out. */
async function writeStaticCodecs(root) {
  const input = join(mkdtempSync(join(tmpdir(), "build-proto-")), "tfplugin6.json");
  writeFileSync(input, JSON.stringify(root.toJSON()));
  const { pbjs } = createRequire(join(repoRoot, "package.json"))("protobufjs-cli");
  const args = ["-t", "static-module", "-w", "commonjs", "--keep-case", "--no-comments", "--no-beautify", "--no-verify", "--no-convert", "--no-delimited", "--no-service", "--no-typeurl", "-o", CODECS, input];
  await new Promise((resolve, reject) => pbjs.main(args, (err) => (err ? reject(err) : resolve())));
  rmSync(dirname(input), { recursive: true, force: true });
  process.stdout.write(`build-proto: wrote ${CODECS}\n`);
}

/** Every method of every service: `/pkg.Service/Method` → message names in the codecs. */
function writeMethods(root) {
  const methods = {};
  root.nestedArray.forEach(function visit(node) {
    if (node instanceof protobuf.Service) {
      for (const method of node.methodsArray) {
        method.resolve();
        methods[`/${node.fullName.slice(1)}/${method.name}`] = {
          request: method.resolvedRequestType.fullName.slice(1),
          response: method.resolvedResponseType.fullName.slice(1),
          serverStreaming: Boolean(method.responseStream),
          clientStreaming: Boolean(method.requestStream),
        };
      }
    }
    node.nestedArray?.forEach(visit);
  });
  writeFileSync(METHODS, JSON.stringify(methods, null, 1) + "\n");
  process.stdout.write(`build-proto: wrote ${METHODS} (${Object.keys(methods).length} methods)\n`);
}

async function main() {
  const protoPath = join(openTofuModuleDir(), PROTO_IN_MODULE);
  if (!existsSync(protoPath)) {
    throw new Error(`build-proto: ${PROTO_IN_MODULE} is missing from the OpenTofu module (${protoPath})`);
  }
  // google/protobuf/timestamp.proto is one of protobufjs' bundled common types.
  const root = new protobuf.Root();
  root.loadSync(protoPath, { keepCase: true });
  addGoPluginServices(root);
  root.resolveAll();

  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, JSON.stringify(root.toJSON()) + "\n");
  process.stdout.write(`build-proto: wrote ${OUTPUT} from ${protoPath}\n`);

  renameForStaticCode(root);
  writeMethods(root);
  await writeStaticCodecs(root);
}

await main();
