/**
 * A real Postscale API server (the suite's TestServer: a child process on
 * PGlite, since PGlite cannot load inside Jest's module sandbox), plus an
 * owner client for arranging and checking server state.
 */
import { PostscaleClient } from "../../../src/api/client";
import { BOOTSTRAP_DOMAINS, useServer } from "../../helpers/server";

export { sleep, uniqueEmail } from "../../helpers/server";
export const DOMAINS = [...BOOTSTRAP_DOMAINS].sort();

export interface LocalServer {
  url: string;
  ownerKey: string;
  /** Client with the owner's key. */
  owner: PostscaleClient;
  /** Accepts the latest invitation to `email` and verifies the address. */
  signUp(email: string): Promise<void>;
}

/** Starts a server for the enclosing describe block; call the result inside tests. */
export function useLocalServer(options: { invitationTtlSeconds?: number } = {}): () => LocalServer {
  const server = useServer("pglite", options);
  let local: LocalServer | undefined;
  afterAll(async () => {
    await local?.owner.close();
  });
  return () => {
    local ??= {
      url: server().url,
      ownerKey: server().ownerKey,
      owner: new PostscaleClient({ endpoint: server().url, apiKey: server().ownerKey, retries: 0 }),
      signUp: async (email) => {
        await server().signUp(email);
      },
    };
    return local;
  };
}
