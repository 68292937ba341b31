import type { Access } from "../../../policy";
import type { Queryable } from "../../db/adapter";
import { domainIdsByName } from "../../data/domains";
import { storeInvitationToken } from "../../data/invitations";
import { findOrganization } from "../../data/organization";
import { invalid } from "../../problem";
import type { Services } from "../../services";
import { newSecret } from "../../security";

/** Issues a fresh invitation token for a member, invalidating older ones; returns the mail to send once the write commits. */
export async function issueInvitation(tx: Queryable, services: Services, member: { id: string; org_id: string; email: string; role: string }, inviter: string | null): Promise<() => void> {
  const token = newSecret("psi_");
  const expiresAt = await storeInvitationToken(tx, member.id, token, services.deps.config.invitationTtlSeconds);
  const { name: orgName } = await findOrganization(tx, member.org_id);
  return () =>
    services.deps.outbox.send({
      to: member.email,
      subject: `You're invited to join ${orgName} on Postscale`,
      text: `${inviter ?? "An administrator"} invited you to join ${orgName} on Postscale as ${member.role === "admin" ? "an admin" : "a member"}.\n\nAccept the invitation: https://app.postscale.dev/invitations/${token}\n\nThe link works once and expires at ${new Date(expiresAt).toISOString()}.`,
      kind: "invitation",
      token,
    });
}

/** Resolves the domains of an invitation's grants to ids, or a 422 naming each unknown or repeated one at its input path. */
export async function grantDomainIds(q: Queryable, orgId: string, grants: { domain: string; access: Access }[], path: string): Promise<Map<string, string>> {
  const ids = await domainIdsByName(q, orgId, grants.map((g) => g.domain));
  const errors = grants.flatMap((g, i) => (ids.has(g.domain) ? [] : [{ path: `${path}/${i}/domain`, message: `domain "${g.domain}" was not found in this organization` }]));
  const seen = new Set<string>();
  grants.forEach((g, i) => {
    if (seen.has(g.domain)) errors.push({ path: `${path}/${i}/domain`, message: `domain "${g.domain}" is listed twice` });
    seen.add(g.domain);
  });
  if (errors.length) throw invalid(errors);
  return ids;
}
