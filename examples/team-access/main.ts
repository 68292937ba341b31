/**
 * The flagship: who may do what in Postscale, declared in TypeScript.
 * `cdktf synth` rejects what Postscale would reject; `cdktf deploy` applies it.
 *
 * Set POSTSCALE_ENDPOINT and POSTSCALE_API_KEY (an owner or admin key).
 */
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Domain, PostscaleProvider, Team } from "@postscale/cdktf";

export class TeamAccessStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new PostscaleProvider(this, "postscale");

    const app = Domain.fromName(this, "app", "app.example.com");
    const staging = Domain.fromName(this, "staging", "staging.example.com");
    const prod = Domain.fromName(this, "prod", "prod.example.com");

    const team = new Team(this, "team");
    team.addAdmin("ops@example.com");
    team.addAdmin("platform@example.com");

    const dev = team.addMember("dev@example.com");
    app.grantReadWrite(dev);
    staging.grantReadWrite(dev);
    prod.grantRead(dev);

    const support = team.addMember("support@example.com", { domains: { "app.example.com": "read", "prod.example.com": "read" } });

    // A contractor on the staging rollout. Offboarding is deleting these lines:
    // the next deploy removes the person, their grants and their keys.
    const contractor = team.addMember("contractor@example.com", { domains: { "staging.example.com": "read_write", "app.example.com": "read" } });
    const contractorKey = contractor.apiKey("staging-rollout");
    new TerraformOutput(this, "contractor_key_secret", { value: contractorKey.secret, sensitive: true });

    // Leaving the list to the server: scoped to dev's read/write domains (app, staging).
    const ci = dev.apiKey("ci");
    const stagingOnly = dev.apiKey("staging-deploy", { domains: [staging] });
    const mailer = team.serviceKey("mailer", { domains: [app, prod] });

    new TerraformOutput(this, "dev_id", { value: dev.id });
    new TerraformOutput(this, "support_status", { value: support.resource.status });
    new TerraformOutput(this, "ci_key_prefix", { value: ci.prefix });
    new TerraformOutput(this, "ci_key_secret", { value: ci.secret, sensitive: true });
    new TerraformOutput(this, "staging_key_secret", { value: stagingOnly.secret, sensitive: true });
    new TerraformOutput(this, "mailer_key_secret", { value: mailer.secret, sensitive: true });
  }
}

const root = new App();
new TeamAccessStack(root, "team-access");
root.synth();
