/**
 * An application's Postscale key, stored in AWS Secrets Manager so the app
 * reads it at runtime and no person ever copies it. The key is organization
 * owned (it survives anyone leaving) and scoped to the app's domain.
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

export class AppKeyStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new PostscaleProvider(this, "postscale");
    new AwsProvider(this, "aws", { region: "eu-west-1" });

    const app = Domain.fromName(this, "app", "app.example.com");
    const key = new Team(this, "team").serviceKey("checkout-service", {
      domains: [app],
      expiresAt: "2027-06-30T00:00:00Z",
    });

    const secret = new SecretsmanagerSecret(this, "postscale_key", {
      name: "checkout/postscale-api-key",
      description: `Postscale API key "${key.name}" for app.example.com`,
    });
    new SecretsmanagerSecretVersion(this, "postscale_key_value", {
      secretId: secret.id,
      secretString: key.secret,
    });

    new TerraformOutput(this, "secret_arn", { value: secret.arn });
    new TerraformOutput(this, "key_prefix", { value: key.prefix });
  }
}

const root = new App();
new AppKeyStack(root, "app-key-to-aws-secrets");
root.synth();
