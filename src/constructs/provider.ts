import { Token } from "cdktf";
import { Construct } from "constructs";
import { ValidationError } from "../errors";
import { PostscaleProvider as L1PostscaleProvider } from "./generated/provider";

/** Configuration of the Postscale provider. */
export interface PostscaleProviderProps {
  /**
   * Base URL of the Postscale API, e.g. `http://127.0.0.1:4000`.
   * @default - the provider reads `POSTSCALE_ENDPOINT`
   */
  readonly endpoint?: string;
  /**
   * API key of an owner or admin (an organization-wide credential).
   * Prefer the environment: a literal here ends up in the synthesized JSON.
   * @default - the provider reads `POSTSCALE_API_KEY`
   */
  readonly apiKey?: string;
  /**
   * Provider alias, to manage more than one organization from one stack.
   * @default - the default provider configuration
   */
  readonly alias?: string;
}

/**
 * The Postscale provider (`postscale/postscale`). Everything not given here
 * falls back to the environment inside the provider, so a stack usually
 * declares just `new PostscaleProvider(stack, "postscale")`.
 */
export class PostscaleProvider extends L1PostscaleProvider {
  constructor(scope: Construct, id: string, props: PostscaleProviderProps = {}) {
    if (props.endpoint !== undefined && !Token.isUnresolved(props.endpoint)) {
      checkEndpoint(props.endpoint);
    }
    super(scope, id, { endpoint: props.endpoint, apiKey: props.apiKey, alias: props.alias });
  }
}

function checkEndpoint(endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ValidationError(
      [{ path: "endpoint", message: `must be an http(s) URL like "http://127.0.0.1:4000", got "${endpoint}"` }],
      `PostscaleProvider endpoint must be an http(s) URL like "http://127.0.0.1:4000", got "${endpoint}". Fix the URL or leave it unset to use POSTSCALE_ENDPOINT.`,
    );
  }
}
