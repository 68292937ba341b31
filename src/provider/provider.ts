import { PostscaleClient } from "../api/client";
import { PostscaleError } from "../errors";
import { defineSchema } from "./framework/schema";
import type { ConfigureResponse, Diagnostic, ObjectValue, ProviderDefinition } from "./protocol/types";
import { apiKeyEphemeral } from "./resources/api-key.ephemeral";
import { apiKeyResource } from "./resources/api-key.resource";
import { createContext, type ProviderContext } from "./resources/context";
import { apiErrorDiagnostics, attributeError } from "./resources/diagnostics";
import { domainAccessResource } from "./resources/domain-access.resource";
import { domainDataSource } from "./resources/domain.data-source";
import { domainsDataSource } from "./resources/domains.data-source";
import { organizationDataSource } from "./resources/organization.data-source";
import { RequestStats } from "./resources/request-stats";
import { teamMemberDataSource } from "./resources/team-member.data-source";
import { teamMemberResource } from "./resources/team-member.resource";
import { teamMembersDataSource } from "./resources/team-members.data-source";
import { undeclaredAccessResource } from "./resources/undeclared-access.resource";
import { isKnown } from "./resources/values";
import { keepWasmOnBaselineCompiler } from "./wasm-baseline";

/** The provider's version, as installed into the plugin mirror and reported to the engine. */
export const PROVIDER_VERSION = "0.1.0";

/** Where the provider talks to when neither `endpoint` nor POSTSCALE_ENDPOINT is set: the local server's default. */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:4000";

/** Attempts after the first, per request: see configureProvider. */
const PROVIDER_RETRIES = 8;

/** Cancels the requests of every context of this process when the engine stops the provider. */
const inFlight = new AbortController();

const providerSchema = defineSchema({
  description: "Manage Postscale team access as code: team members, their domain access and API keys.",
  attributes: {
    endpoint: {
      type: "string",
      optional: true,
      description: `Base URL of the Postscale API, e.g. \`https://api.postscale.example\`. Falls back to the POSTSCALE_ENDPOINT environment variable, then to ${DEFAULT_ENDPOINT} (a local \`postscale server\`).`,
    },
    api_key: {
      type: "string",
      optional: true,
      sensitive: true,
      description: "An API key (`ps_...`) of an owner or admin, or an organization-owned key. Falls back to the POSTSCALE_API_KEY environment variable. Prefer the environment variable over writing the key into configuration.",
    },
  },
});

/** The Postscale provider: schema, configuration, resources and data sources. */
export const postscaleProvider: ProviderDefinition<ProviderContext> = {
  name: "postscale",
  version: PROVIDER_VERSION,

  schema: providerSchema.schema,

  validateConfig({ config }) {
    const { endpoint } = providerSchema.config(config);
    return typeof endpoint === "string" ? endpointProblems(endpoint) : [];
  },

  async configure(config) {
    return configureProvider(config, process.env);
  },

  // The engine's StopProvider (Ctrl-C, or the engine going away): cancel every request in flight, so nothing runs on whose result nobody waits.
  stop() {
    inFlight.abort(new Error("the engine stopped the provider"));
  },

  resources: [teamMemberResource, domainAccessResource, apiKeyResource, undeclaredAccessResource],
  dataSources: [organizationDataSource, domainDataSource, domainsDataSource, teamMemberDataSource, teamMembersDataSource],
  ephemeralResources: [apiKeyEphemeral],
};

/**
 * Resolves the endpoint and key (configuration first, then the
 * environment), checks the credential with GET /v1/me, and builds the
 * context that every resource of this process shares.
 */
export async function configureProvider(config: ObjectValue, env: NodeJS.ProcessEnv): Promise<ConfigureResponse<ProviderContext>> {
  const { endpoint: endpointValue, api_key: apiKeyValue } = providerSchema.config(config);
  if (!isKnown(endpointValue) || !isKnown(apiKeyValue)) {
    const diagnostics: Diagnostic[] = [];
    if (!isKnown(endpointValue)) diagnostics.push(unknownSetting("endpoint", "Endpoint"));
    if (!isKnown(apiKeyValue)) diagnostics.push(unknownSetting("api_key", "API Key"));
    return { diagnostics };
  }

  const endpoint = endpointValue ?? nonEmpty(env.POSTSCALE_ENDPOINT) ?? DEFAULT_ENDPOINT;
  const endpointDiagnostics = endpointProblems(endpoint);
  if (endpointDiagnostics.length > 0) return { diagnostics: endpointDiagnostics };
  const apiKey = apiKeyValue ?? nonEmpty(env.POSTSCALE_API_KEY);
  if (apiKey === undefined) {
    return {
      diagnostics: [
        attributeError(
          ["api_key"],
          "Missing Postscale API Key",
          "The provider needs a person's own API key, the owner's or an admin's (organization-owned keys do domain work but cannot manage people or keys). Set POSTSCALE_API_KEY in the environment, or api_key in the provider block. A local `postscale server` writes the owner's key to the file named by POSTSCALE_BOOTSTRAP_KEY_FILE.",
        ),
      ],
    };
  }

  keepWasmOnBaselineCompiler();
  const stats = new RequestStats();
  stats.reportAtExit(nonEmpty(env.POSTSCALE_PROVIDER_STATS));
  // Eight retries with full-jitter backoff (about 10 s in all) ride out a server restart mid-apply; the client's four (about 1.5 s) do not.
  const client = new PostscaleClient({ endpoint, apiKey, retries: PROVIDER_RETRIES, onRequest: (info) => stats.record(info), signal: inFlight.signal });
  try {
    const caller = await client.me();
    return { ctx: createContext(client, caller, stats, apiKey) };
  } catch (err) {
    return { diagnostics: credentialDiagnostics(err, endpoint) };
  }
}

function credentialDiagnostics(err: unknown, endpoint: string): Diagnostic[] {
  if (err instanceof PostscaleError && err.code === "POSTSCALE_E_UNAUTHENTICATED") {
    return [
      attributeError(
        ["api_key"],
        "Invalid Postscale API Key",
        `${endpoint} rejected the API key (${err.problem?.detail ?? err.message}). It may be mistyped, deleted, expired, or from another Postscale server. Set a current key in POSTSCALE_API_KEY or the provider's api_key.`,
      ),
    ];
  }
  if (err instanceof PostscaleError && err.code === "POSTSCALE_E_NETWORK" && (err.failure === "unreachable" || err.failure === undefined)) {
    return [
      attributeError(
        ["endpoint"],
        "Cannot Reach Postscale API",
        `No answer from ${endpoint} (${err.message}). Check that the Postscale API is running there (locally: \`npx postscale server\`) and that the provider's endpoint or POSTSCALE_ENDPOINT names it.`,
      ),
    ];
  }
  return apiErrorDiagnostics(err, `Checking the API key against ${endpoint}`, ["endpoint", "api_key"]);
}

function endpointProblems(endpoint: string): Diagnostic[] {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url && (url.protocol === "http:" || url.protocol === "https:")) return [];
  return [attributeError(["endpoint"], "Invalid Postscale Endpoint", `endpoint must be an http or https URL like "${DEFAULT_ENDPOINT}", got "${endpoint}".`)];
}

function unknownSetting(attribute: string, label: string): Diagnostic {
  return attributeError(
    [attribute],
    `Unknown Postscale ${label}`,
    `The provider's ${attribute} depends on a value that is only known after apply, so the provider cannot connect while planning. Set it to a value known at plan time (a variable, a data source, or POSTSCALE_${attribute.toUpperCase()} in the environment).`,
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
