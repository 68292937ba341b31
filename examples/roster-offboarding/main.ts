/**
 * The team comes from roster.yaml, the shape an HR export has. Offboarding
 * is deleting a line: the next deploy removes the person, their domain
 * access and every key they own; nothing else changes.
 *
 * POSTSCALE_ROSTER points at another roster file (default: ./roster.yaml).
 */
import { resolve } from "node:path";
import { App, Aspects, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { KeysMustExpire, MaxAdmins, NoOrganizationWideKeys, PostscaleProvider, Team } from "@postscale/cdktf";

export class RosterStack extends TerraformStack {
  constructor(scope: Construct, id: string, rosterPath: string) {
    super(scope, id);
    new PostscaleProvider(this, "postscale");
    const team = Team.fromFile(this, "team", rosterPath);

    // Every member with read/write access gets a deploy key, scoped by Postscale to their writable domains.
    for (const member of team.members) {
      if (Object.values(member.grants).includes("read_write")) {
        member.apiKey("deploy", { expiresAt: "2027-03-31T00:00:00Z" });
      }
    }

    Aspects.of(this).add(new MaxAdmins(2));
    Aspects.of(this).add(new NoOrganizationWideKeys());
    Aspects.of(this).add(new KeysMustExpire());
  }
}

const root = new App();
new RosterStack(root, "roster-offboarding", resolve(process.env.POSTSCALE_ROSTER ?? "roster.yaml"));
root.synth();
