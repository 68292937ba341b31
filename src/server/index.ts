/**
 * The local Postscale API server: Fastify on PGlite (default) or
 * PostgreSQL (DATABASE_URL). `buildApp` gives the app without a socket;
 * `startServer` opens the database, migrates, bootstraps and listens.
 */
import type { FastifyInstance } from "fastify";
import { buildApp as buildFastifyApp } from "./app";
import { BootstrapSpec, bootstrap, bootstrapFromEnv as readBootstrapEnv } from "./bootstrap";
import type { AppDeps } from "./context";
import { StartupError, openDatabase } from "./db/open";
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS } from "./idempotency";

export type { AppDeps, AppConfig } from "./context";
export type { Database, Queryable } from "./db/adapter";
export { openDatabase, StartupError } from "./db/open";
export type { BootstrapSpec } from "./bootstrap";

export const DEFAULT_PORT = 4000;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_DATA_DIR = "./.postscale";
export const DEFAULT_INVITATION_TTL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_RATE_LIMIT = { max: 6000, windowMs: 60_000 };

export interface ServerOptions {
  /** 0 picks a free port. @default 4000 */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** PGlite data directory. @default "./.postscale" */
  dataDir?: string;
  /** PostgreSQL connection string; when set, dataDir is ignored. */
  databaseUrl?: string;
  /** Keep mail in an outbox served at GET /_dev/mail. @default false */
  dev?: boolean;
  /** @default 604800 (7 days) */
  invitationTtlSeconds?: number;
  /** How long a stored Idempotency-Key response is replayed. @default 86400 (24 h) */
  idempotencyTtlSeconds?: number;
  /** Bootstraps the first organization when the database has none. */
  bootstrap?: BootstrapSpec;
  /** Per credential (per IP when unauthenticated). @default 6000 per minute */
  rateLimit?: { max: number; windowMs: number } | false;
  /** Failed logins per target email, whatever the client address. @default 10 per 15 minutes */
  loginFailureLimit?: { max: number; windowMs: number } | false;
  /** JSON request logs on stderr. @default false */
  logger?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting requests, finishes in-flight ones, closes the database cleanly. */
  close(): Promise<void>;
  /** The bootstrap key's secret, when this start bootstrapped the organization. */
  bootstrapKey?: string;
}

/** The app as a plugin-style instance that never listens (for app.inject()). */
export function buildApp(deps: AppDeps): FastifyInstance {
  return buildFastifyApp(deps);
}

/** POSTSCALE_BOOTSTRAP_* as bootstrap options, or undefined when POSTSCALE_BOOTSTRAP_ORG is unset. */
export function bootstrapFromEnv(env: NodeJS.ProcessEnv): ServerOptions["bootstrap"] | undefined {
  return readBootstrapEnv(env);
}

/** Opens the database, migrates, bootstraps if empty, listens; resolves once /healthz answers 200. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const db = await openDatabase({ dataDir: options.dataDir ?? DEFAULT_DATA_DIR, databaseUrl: options.databaseUrl });
  let app: FastifyInstance | undefined;
  try {
    const bootstrapKey = options.bootstrap ? await bootstrap(db, options.bootstrap) : undefined;
    app = buildApp({
      db,
      logger: options.logger ?? false,
      config: {
        dev: options.dev ?? false,
        invitationTtlSeconds: options.invitationTtlSeconds ?? DEFAULT_INVITATION_TTL_SECONDS,
        idempotencyTtlSeconds: options.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
        rateLimit: options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit,
        loginFailureLimit: options.loginFailureLimit,
      },
    });
    const host = options.host ?? DEFAULT_HOST;
    try {
      await app.listen({ port: options.port ?? DEFAULT_PORT, host });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") throw new StartupError(`port ${options.port ?? DEFAULT_PORT} on ${host} is already in use; choose another with --port.`, err);
      if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new StartupError(`cannot listen on host ${host}: ${(err as Error).message}`, err);
      if (code === "EACCES") throw new StartupError(`not allowed to listen on port ${options.port}; use a port above 1023.`, err);
      throw err;
    }
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : (options.port ?? DEFAULT_PORT);
    const urlHost = host.includes(":") ? `[${host}]` : host;
    let closing: Promise<void> | undefined;
    const running: RunningServer = {
      url: `http://${urlHost}:${port}`,
      port,
      close: () => {
        closing ??= (async () => {
          await app!.close();
          await db.close();
        })();
        return closing;
      },
    };
    if (bootstrapKey !== undefined) running.bootstrapKey = bootstrapKey;
    return running;
  } catch (err) {
    await app?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
