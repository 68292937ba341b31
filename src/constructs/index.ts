/**
 * CDKTF constructs for Postscale team access: L2 constructs (Team, members,
 * grants, keys) validated with the access policy at synth, organization
 * policy aspects, and the generated L1 bindings under `l1`.
 */
export { PostscaleProvider, type PostscaleProviderProps } from "./provider";
export { Team, type TeamProps, type AddMemberOptions, type DomainGrants, type DomainGrant } from "./team";
export { TeamMember, type TeamMemberProps } from "./team-member";
export { Domain, type DomainRef } from "./domain";
export { DomainAccess, type DomainAccessProps } from "./domain-access";
export { ApiKey, type ApiKeyOptions, type ApiKeyProps, type KeyMaterial } from "./api-key";
export { EphemeralApiKey, ephemeralUseProblems, type EphemeralApiKeyOptions, type EphemeralApiKeyProps } from "./ephemeral-key";
export { MaxAdmins, NoOrganizationWideKeys, KeysMustExpire, type KeysMustExpireOptions } from "./aspects";
export {
  AccessRules,
  declaredAccess,
  type AccessRulesProps,
  type RuleOptions,
  type NeverOptions,
  type KeysExpireOptions,
  type EveryDomainHasWriterOptions,
  type NoOrganizationWideKeysOptions,
  type CountedPeople,
  type DeclaredAccess,
} from "./access-rules";
export { parseRoster, type RosterEntry } from "./roster";
export { importExisting, type ExistingAccess } from "./import-existing";
export { memberLogicalId, accessLogicalId, keyLogicalId, domainLogicalId } from "./ids";
export { Duration } from "../duration";
export * as l1 from "./generated";
