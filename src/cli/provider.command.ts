import type { Command } from "commander";

/**
 * Registers `postscale provider install` and `postscale provider schema`.
 * The provider modules are loaded inside the actions: `postscale server`
 * must not pay for them.
 */
export function register(program: Command): void {
  const provider = program
    .command("provider")
    .description("Install the Terraform provider or print its schema.");

  provider
    .command("install")
    .description(
      "Install terraform-provider-postscale (a launcher that runs this node on the bundled provider) into a local " +
        "mirror, for both registry.opentofu.org and registry.terraform.io.",
    )
    .option("--dir <dir>", "mirror directory (default: ~/.terraform.d/plugins, searched by both engines without any CLI config)")
    .option("--version <version>", "provider version to install as (default: this package's version)")
    .action((options: { dir?: string; version?: string }) => {
      const { installProvider } = require("../provider/install") as typeof import("../provider/install");
      const result = installProvider({ dir: options.dir, version: options.version });
      process.stdout.write(`Installed postscale/postscale v${result.version} (${result.platform}) into ${result.dir}:\n`);
      for (const launcher of result.launchers) process.stdout.write(`  ${launcher}\n`);
    });

  provider
    .command("schema")
    .description("Print the provider schema in the format of `tofu providers schema -json`.")
    .requiredOption("--json", "print JSON (the only format)")
    .action(() => {
      const { providerSchemasJson } = require("../provider/schema-json") as typeof import("../provider/schema-json");
      const { postscaleProvider } = require("../provider/provider") as typeof import("../provider/provider");
      process.stdout.write(JSON.stringify(providerSchemasJson(postscaleProvider)) + "\n");
    });
}
