import type { Command } from "commander";
import { PostscaleError } from "../errors";

interface ServerFlags {
  port: string;
  host: string;
  dataDir: string;
  dev?: boolean;
  invitationTtl?: string;
  idempotencyTtl?: string;
  rateLimit?: string;
  log: boolean;
  background?: boolean;
  stop?: boolean;
}

/** Packages only the local server needs: optional peers, so constructs users do not install them. */
const SERVER_PACKAGES = ["@electric-sql/pglite", "fastify", "@fastify/swagger"];

async function loadServer(): Promise<typeof import("../server")> {
  try {
    return await import("../server");
  } catch (err) {
    const missing = /Cannot find module '([^']+)'/.exec((err as Error).message)?.[1];
    if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND" || !missing) throw err;
    throw configError(
      `the local server needs ${missing}, which @postscale/cdktf does not install for constructs users; ` +
        `install the server's packages with: npm install -D ${SERVER_PACKAGES.join(" ")}` +
        (missing === "pg" ? " pg" : ""),
    );
  }
}

function configError(message: string): PostscaleError {
  return new PostscaleError("POSTSCALE_E_CONFIG", message);
}

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw configError(`--port must be a number from 0 to 65535, got "${value}"`);
  return Number(value);
}

/** Registers `postscale server`. */
export function register(program: Command): void {
  program
    .command("server")
    .description("Run the local Postscale API (PGlite in --data-dir, or PostgreSQL when DATABASE_URL is set).")
    .option("--port <n>", "port to listen on (0 picks a free one)", "4000")
    .option("--host <h>", "address to listen on", "127.0.0.1")
    .option("--data-dir <dir>", "PGlite data directory (ignored when DATABASE_URL is set)", "./.postscale")
    .option("--dev", "keep emails in an outbox served at GET /_dev/mail")
    .option("--invitation-ttl <seconds>", "how long invitation links stay valid (default 7 days)")
    .option("--idempotency-ttl <seconds>", "how long a response is replayed for a repeated Idempotency-Key (default 24 h)")
    .option("--rate-limit <n/window>", 'requests per credential per window, e.g. 600/1m, 6000/60s, or "off" (default 6000/1m)')
    .option("--no-log", "do not write request logs to stderr")
    .option("--background", "start in the background, wait until it answers, then exit (log and pid file in --data-dir)")
    .option("--stop", "stop the server that --background started from this --data-dir")
    .addHelpText(
      "after",
      "\nEnvironment:\n  DATABASE_URL                       postgres://user:password@host:5432/db\n  POSTSCALE_BOOTSTRAP_ORG            on an empty database, create this organization\n  POSTSCALE_BOOTSTRAP_OWNER_EMAIL    its owner\n  POSTSCALE_BOOTSTRAP_OWNER_PASSWORD the owner's password\n  POSTSCALE_BOOTSTRAP_DOMAINS        comma-separated domains to create\n  POSTSCALE_BOOTSTRAP_KEY_FILE       write the owner's own API key here (mode 0600)\n",
    )
    .action(async (flags: ServerFlags) => {
      if (flags.stop) return (await import("./background")).stopBackground(flags.dataDir);
      if (flags.background) {
        parsePort(flags.port);
        const args = process.argv.slice(2).filter((arg) => arg !== "--background");
        return (await import("./background")).startBackground(args, flags.dataDir);
      }
      const { startServer, bootstrapFromEnv } = await loadServer();
      const { parseRateLimit } = await import("../server/rate-limit");
      const port = parsePort(flags.port);
      let invitationTtlSeconds: number | undefined;
      if (flags.invitationTtl !== undefined) {
        if (!/^\d{1,10}$/.test(flags.invitationTtl) || Number(flags.invitationTtl) < 1) throw configError(`--invitation-ttl must be a whole number of seconds >= 1, got "${flags.invitationTtl}"`);
        invitationTtlSeconds = Number(flags.invitationTtl);
      }
      let idempotencyTtlSeconds: number | undefined;
      if (flags.idempotencyTtl !== undefined) {
        if (!/^\d{1,10}$/.test(flags.idempotencyTtl) || Number(flags.idempotencyTtl) < 1) throw configError(`--idempotency-ttl must be a whole number of seconds >= 1, got "${flags.idempotencyTtl}"`);
        idempotencyTtlSeconds = Number(flags.idempotencyTtl);
      }
      let rateLimit: ReturnType<typeof parseRateLimit> | undefined;
      if (flags.rateLimit !== undefined) {
        try {
          rateLimit = parseRateLimit(flags.rateLimit);
        } catch (err) {
          throw configError((err as Error).message);
        }
      }
      const bootstrap = bootstrapFromEnv(process.env);
      const server = await startServer({
        port,
        host: flags.host,
        dataDir: flags.dataDir,
        databaseUrl: process.env.DATABASE_URL || undefined,
        dev: flags.dev ?? false,
        invitationTtlSeconds,
        idempotencyTtlSeconds,
        rateLimit,
        bootstrap,
        logger: flags.log,
      });
      if (server.bootstrapKey !== undefined) {
        process.stderr.write(
          bootstrap?.keyFile
            ? `postscale: bootstrapped organization "${bootstrap.organization}"; its API key was written to ${bootstrap.keyFile} (mode 0600).\n`
            : `postscale: bootstrapped organization "${bootstrap?.organization}"; no POSTSCALE_BOOTSTRAP_KEY_FILE was set, so log in as the owner to create keys.\n`,
        );
      }
      process.stdout.write(`Postscale API listening on ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.stderr.write(`postscale: ${signal} received, shutting down\n`);
          server.close().then(resolve, (err) => {
            process.stderr.write(`postscale: shutdown failed: ${(err as Error).message}\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
