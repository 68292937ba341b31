import { TerraformElement, TerraformResource } from "cdktf";
import { KEY_OWNER, normalizeEmail } from "../policy";
import type { Team } from "./team";

/**
 * Access that already exists in Postscale (what `postscale export` found),
 * to import on the next deploy instead of creating it. Members and grants
 * are imported by their identity, keys by their id.
 */
export interface ExistingAccess {
  /**
   * Emails of existing members.
   * @default - none
   */
  readonly members?: readonly string[];
  /**
   * Existing grants as `<email>/<domain>`.
   * @default - none
   */
  readonly grants?: readonly string[];
  /**
   * Existing keys: `<holder email>/<name>` or `organization/<name>`, to the key's id.
   * @default - none
   */
  readonly keys?: Readonly<Record<string, string>>;
}

/**
 * Imports existing members, grants and keys into the team's resources: the
 * next plan shows them as imports (OpenTofu / Terraform 1.5+ `import`
 * blocks), not creations. Only what the team declares when the stack
 * synthesizes is imported, whatever the order of the code; entries it does
 * not declare (a person deleted from the code since the export) are
 * ignored. Delete the call once the first deploy has run.
 *
 * This is `TerraformResource.importFrom` for a whole team: importFrom adds
 * a validation to every resource that runs `terraform version`, one process
 * per member, grant and key at every synth; one element writes the same
 * import blocks for all of them.
 */
export function importExisting(team: Team, existing: ExistingAccess): void {
  new ExistingAccessImports(team, existing);
}

interface ImportBlock {
  readonly resource: TerraformResource;
  readonly id: string;
}

class ExistingAccessImports extends TerraformElement {
  private readonly team: Team;
  private readonly members: ReadonlySet<string>;
  private readonly grants: ReadonlySet<string>;
  private readonly keys: ReadonlyMap<string, string>;

  constructor(team: Team, existing: ExistingAccess) {
    super(team, "import-existing");
    this.team = team;
    this.members = new Set((existing.members ?? []).map(normalizeEmail));
    this.grants = new Set((existing.grants ?? []).map(grantKey));
    this.keys = new Map(Object.entries(existing.keys ?? {}).map(([key, id]) => [holderKey(key), id]));
  }

  /** The import blocks of what the team declares now, by address. */
  private blocks(): ImportBlock[] {
    const blocks: ImportBlock[] = [];
    for (const member of this.team.members) {
      if (this.members.has(member.email)) blocks.push({ resource: member.resource, id: member.email });
      for (const access of member.accesses) {
        const id = `${member.email}/${access.domain}`;
        if (this.grants.has(id)) blocks.push({ resource: access.resource, id });
      }
      for (const key of member.apiKeys) {
        const id = this.keys.get(`${member.email}/${key.name}`);
        if (id !== undefined) blocks.push({ resource: key.resource, id });
      }
    }
    for (const key of this.team.keys) {
      const id = this.keys.get(`${KEY_OWNER.organization}/${key.name}`);
      if (id !== undefined) blocks.push({ resource: key.resource, id });
    }
    return blocks.sort((a, b) => (address(a.resource) < address(b.resource) ? -1 : 1));
  }

  override toTerraform(): Record<string, unknown> {
    const provider = this.team.provider?.fqn;
    const blocks = this.blocks();
    if (blocks.length === 0) return {};
    return { import: blocks.map((b) => ({ provider, id: b.id, to: address(b.resource) })) };
  }

  override toHclTerraform(): Record<string, unknown> {
    const provider = this.team.provider?.fqn;
    const blocks = this.blocks();
    if (blocks.length === 0) return {};
    return {
      import: blocks.map((b) => ({
        to: { value: address(b.resource), type: "simple", storageClassType: "reference" },
        id: { value: b.id, type: "simple", storageClassType: "string" },
        provider: provider === undefined ? undefined : { value: provider, type: "simple", storageClassType: "reference" },
      })),
    };
  }

  override toMetadata(): Record<string, unknown> {
    const byType: Record<string, string[]> = {};
    for (const { resource } of this.blocks()) (byType[resource.terraformResourceType] ??= []).push(resource.friendlyUniqueId);
    return Object.keys(byType).length === 0 ? {} : { imports: byType };
  }
}

function address(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}

/** `Dev@Example.com/app.example.com` → `dev@example.com/app.example.com`. */
function grantKey(grant: string): string {
  const slash = grant.lastIndexOf("/");
  return slash < 0 ? grant : `${normalizeEmail(grant.slice(0, slash))}${grant.slice(slash)}`;
}

/** `Dev@Example.com/ci` → `dev@example.com/ci`; `organization/mailer` stays. */
function holderKey(key: string): string {
  const slash = key.indexOf("/");
  if (slash < 0) return key;
  const holder = key.slice(0, slash);
  return `${holder === KEY_OWNER.organization ? holder : normalizeEmail(holder)}${key.slice(slash)}`;
}
