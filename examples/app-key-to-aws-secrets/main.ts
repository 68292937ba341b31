/**
 * An application's Postscale key, stored in AWS Secrets Manager so the app
 * reads it at runtime and no person ever copies it. The key is organization
 * owned (it survives anyone leaving) and scoped to the app's domain.
 *
 * The secret is in no plan and no state: the key material is an ephemeral
 * random password, handed to Postscale through the key's write-only
 * `secret_wo` (Postscale keeps only its hash) and to Secrets Manager
 * through `secret_string_wo`. Each phase of a run makes a new password, but
 * both read it only when the key is created and when the `*_wo_version`
 * changes, so they always hold the same one: bump SECRET_VERSION to rotate.
 * See docs/secrets.md.
 *
 * Needs OpenTofu >= 1.11 or Terraform >= 1.11 (write-only attributes and
 * ephemeral resources), hashicorp/aws >= 5.90 and hashicorp/random >= 3.7.
 * Older engines: drop the two overrides and the ephemeral password, and
 * set `secretString: key.secret` on the secret version instead; the secret
 * then sits in the state of both providers, so protect (encrypt) the state.
 *
 * Synth works offline; deploying needs AWS credentials as well as
 * POSTSCALE_ENDPOINT and POSTSCALE_API_KEY.
 */
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Domain, PostscaleProvider, Team } from "@postscale/cdktf";

/** Bump to rotate: Postscale and Secrets Manager both take the run's new material. */
const SECRET_VERSION = 1;

export class AppKeyStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new PostscaleProvider(this, "postscale");
    new AwsProvider(this, "aws", { region: "eu-west-1" });

    // cdktf 0.21 has no ephemeral blocks: the password is written into the stack's JSON.
    this.addOverride("terraform.required_providers.random", { source: "hashicorp/random", version: "~> 3.7" });
    this.addOverride("ephemeral.random_password.checkout_key", { length: 48, special: false });
    const material = "${ephemeral.random_password.checkout_key.result}";

    const app = Domain.fromName(this, "app", "app.example.com");
    const key = new Team(this, "team").serviceKey("checkout-service", {
      domains: [app],
      expiresAt: "2027-06-30T00:00:00Z",
    });
    key.resource.addOverride("secret_wo", material);
    key.resource.addOverride("secret_wo_version", SECRET_VERSION);

    const secret = new SecretsmanagerSecret(this, "postscale_key", {
      name: "checkout/postscale-api-key",
      description: `Postscale API key "${key.name}" for app.example.com`,
    });
    new SecretsmanagerSecretVersion(this, "postscale_key_value", {
      secretId: secret.id,
      secretStringWo: material,
      secretStringWoVersion: SECRET_VERSION,
    });

    new TerraformOutput(this, "secret_arn", { value: secret.arn });
    new TerraformOutput(this, "key_prefix", { value: key.prefix });
  }
}

const root = new App();
new AppKeyStack(root, "app-key-to-aws-secrets");
root.synth();
