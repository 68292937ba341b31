import type { AppDeps } from "./context";
import type { Outbox } from "./mail";
import type { ReadCache } from "./read-cache";
import type { Writer } from "./write";

/** Services every route plugin receives. */
export interface Services {
  deps: AppDeps & { outbox: Outbox };
  cache: ReadCache;
  /** Runs a write: authorization, idempotency and the work in one transaction. */
  writer: Writer;
}

/** The options of every route plugin. */
export interface RoutePluginOptions {
  services: Services;
}
