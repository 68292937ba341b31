/** Provider contexts for tests: each one is what a fresh provider process would configure. */
import type { PostscaleClient } from "../../../src/api/client";
import { configureProvider } from "../../../src/provider/provider";
import type { ProviderContext } from "../../../src/provider/resources/context";

const opened: ProviderContext[] = [];

/** Configures the provider against `url` with `apiKey`, as ConfigureProvider would; fails on diagnostics. */
export async function providerContext(url: string, apiKey: string): Promise<ProviderContext> {
  const { ctx, diagnostics } = await configureProvider({ endpoint: url, api_key: apiKey }, {});
  if (!ctx) throw new Error(`configure failed: ${JSON.stringify(diagnostics)}`);
  opened.push(ctx);
  return ctx;
}

/** Closes the connection pools of every context opened so far (call in afterAll, before stopping the server). */
export async function closeContexts(): Promise<void> {
  await Promise.all(opened.splice(0).map((ctx) => (ctx.client as PostscaleClient).close()));
}
