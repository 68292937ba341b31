/**
 * A deploy key that lives for one run: an ephemeral service key scoped to
 * the app's domain configures a second Postscale provider, which reads the
 * domain with only that reach. Each phase (plan, apply) mints its own key
 * with a 15-minute server-side expiry and revokes it at its end; no plan
 * or state holds it. A member's key works the same way
 * (`member.ephemeralKey("deploy", { ttl, domains })`) once the member
 * exists and has joined: a key of someone still invited is refused, and a
 * member created in the same run has no id to mint it with at plan time.
 * See docs/secrets.md.
 *
 * Needs OpenTofu >= 1.11 or Terraform >= 1.10 (ephemeral resources).
 * Synth works offline; deploying needs POSTSCALE_ENDPOINT and
 * POSTSCALE_API_KEY (an owner's or admin's key).
 */
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Domain, Duration, PostscaleProvider, Team, l1 } from "@postscale/cdktf";

export class EphemeralDeployKeyStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new PostscaleProvider(this, "postscale");

    const app = Domain.fromName(this, "app", "app.example.com");
    const key = new Team(this, "team").ephemeralServiceKey("deploy", { ttl: Duration.minutes(15), domains: [app] });

    // Everything through this provider uses the run's key, and reaches app.example.com only.
    const deploy = new PostscaleProvider(this, "deploy", { alias: "deploy", apiKey: key.secret });
    const seen = new l1.dataPostscaleDomain.DataPostscaleDomain(this, "app_for_deploy", { name: app.name, provider: deploy });

    new TerraformOutput(this, "app_status", { value: seen.status });
  }
}

const root = new App();
new EphemeralDeployKeyStack(root, "ephemeral-deploy-key");
root.synth();
