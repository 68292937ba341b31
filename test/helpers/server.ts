/**
 * Harness for the black-box server suite: a fresh Postscale API server per
 * test file (or describe block), on PGlite in a temp data dir and, when
 * POSTSCALE_TEST_DATABASE_URL is set, also on PostgreSQL in a database made
 * for that server and dropped afterwards. The server runs in its own node
 * process (src/server bundled once per Jest worker) and everything else goes
 * over HTTP.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { build } from "esbuild";
import type { CreatedApiKey, DomainGrant, MailMessage, Member } from "../../src/api/types";
import type { ServerOptions } from "../../src/server";
import { createTestDatabase, dropTestDatabase } from "./databases";
import { Caller, type HttpResponse, ok, request } from "./http";

export const OWNER_EMAIL = "owner@example.com";
export const OWNER_PASSWORD = "owner-password-1234";
export const ORGANIZATION = "Example Inc";
export const APP = "app.example.com";
export const STAGING = "staging.example.com";
export const PROD = "prod.example.com";
export const BOOTSTRAP_DOMAINS = [APP, STAGING, PROD];
/** A well-formed domain name that no organization has. */
export const MISSING_DOMAIN = "missing.example.com";

/** A storage backend the suite runs on. */
export type Backend = "pglite" | "postgresql";

/**
 * PGlite always; PostgreSQL only when POSTSCALE_TEST_DATABASE_URL is set
 * (.ci/run sets it). Without it the PostgreSQL variant is not generated at
 * all, so it can never pass by being skipped.
 */
export const BACKENDS: Backend[] = process.env.POSTSCALE_TEST_DATABASE_URL ? ["pglite", "postgresql"] : ["pglite"];

export type ServerOverrides = Omit<ServerOptions, "port" | "dataDir" | "databaseUrl" | "bootstrap">;

/** A running server plus what the tests need to reach it as its owner. */
export class TestServer {
  /** The bootstrap key: the owner's organization-wide API key. */
  readonly ownerKey: string;
  private running: ServerProcess;

  private constructor(
    readonly backend: Backend,
    private readonly storage: Storage,
    private readonly overrides: ServerOverrides,
    running: ServerProcess,
  ) {
    this.running = running;
    if (!running.bootstrapKey) throw new Error("the server did not return a bootstrap key on first start");
    this.ownerKey = running.bootstrapKey;
  }

  /** Starts a server with a bootstrap organization on fresh storage. */
  static async start(backend: Backend, overrides: ServerOverrides = {}): Promise<TestServer> {
    const storage = await Storage.create(backend);
    try {
      const running = await ServerProcess.start(storage.options(overrides, true));
      return new TestServer(backend, storage, overrides, running);
    } catch (error) {
      await storage.destroy();
      throw error;
    }
  }

  get url(): string {
    return this.running.url;
  }

  /** Requests with a credential (or none). */
  as(token: string | undefined): Caller {
    return new Caller(this.url, token);
  }

  /** Requests as the owner, through the bootstrap key. */
  get owner(): Caller {
    return this.as(this.ownerKey);
  }

  /** Requests without credentials. */
  get anonymous(): Caller {
    return this.as(undefined);
  }

  /** Logs in with a password; requests with the session it returns. */
  async login(email: string, password: string): Promise<Caller> {
    return this.as(ok(await this.anonymous.post("/v1/auth/login", { email, password }), `login ${email}`).token);
  }

  /** A fresh owner session from the bootstrap password. */
  ownerSession(): Promise<Caller> {
    return this.login(OWNER_EMAIL, OWNER_PASSWORD);
  }

  /** Stops the server and starts a new one on the same storage and port, so existing callers keep working. */
  async restart(): Promise<void> {
    const port = this.running.port;
    await this.running.close();
    this.running = await ServerProcess.start({ ...this.storage.options(this.overrides, false), port });
  }

  /**
   * Another server process on the same database (a replica: PostgreSQL
   * only, since PGlite's data directory belongs to one process).
   */
  async replica(overrides: ServerOverrides = {}): Promise<{ url: string; as(token: string | undefined): Caller; close(): Promise<void> }> {
    if (this.backend !== "postgresql") throw new Error("replicas share a PostgreSQL database; PGlite has one writer");
    const running = await ServerProcess.start({ ...this.storage.options({ ...this.overrides, ...overrides }, false) });
    return { url: running.url, as: (token) => new Caller(running.url, token), close: () => running.close() };
  }

  /** Kills the server with SIGKILL (no clean shutdown) and starts it again on the same storage and port. */
  async crash(): Promise<void> {
    const port = this.running.port;
    await this.running.kill();
    this.running = await ServerProcess.start({ ...this.storage.options(this.overrides, false), port });
  }

  /** Stops the server and deletes its storage. */
  async stop(): Promise<void> {
    try {
      await this.running.close();
    } finally {
      await this.storage.destroy();
    }
  }

  /** The dev outbox, oldest first. */
  async mail(): Promise<MailMessage[]> {
    return ok(await request(this.url, "GET", "/_dev/mail"), "GET /_dev/mail");
  }

  /** The newest message of a kind sent to `email`. */
  async lastMail(email: string, kind: MailMessage["kind"]): Promise<MailMessage> {
    const messages = (await this.mail()).filter((m) => m.to === email && m.kind === kind);
    if (messages.length === 0) throw new Error(`no ${kind} mail to ${email} in the dev outbox`);
    return messages[messages.length - 1];
  }

  /** Invites someone as the owner; returns the member record. */
  async invite(email: string, role: "admin" | "member", domainAccess?: DomainGrant[]): Promise<Member> {
    const body = domainAccess === undefined ? { email, role } : { email, role, domain_access: domainAccess };
    return ok(await this.owner.post("/v1/team/members", body), `invite ${email}`);
  }

  /** Accepts the latest invitation to `email` and verifies the address: the real sign-up flow. */
  async signUp(email: string, password = `pw-${email}-123456`): Promise<{ session: string; verify: HttpResponse }> {
    const invitation = await this.lastMail(email, "invitation");
    ok(await this.anonymous.post(`/v1/invitations/${invitation.token}/accept`, { name: nameOf(email), password }), `accept ${email}`);
    const verifyMail = await this.lastMail(email, "verify_email");
    const verify = await this.anonymous.post("/v1/auth/verify-email", { token: verifyMail.token });
    const body = ok(verify, `verify ${email}`);
    return { session: body.token, verify };
  }

  /** Invites, accepts and verifies: a member with a working session. */
  async onboard(email: string, role: "admin" | "member", domainAccess?: DomainGrant[]): Promise<Person> {
    const member = await this.invite(email, role, domainAccess);
    const password = `pw-${email}-123456`;
    const { session } = await this.signUp(email, password);
    return { id: member.id, email, password, session, api: this.as(session) };
  }

  /** Creates an API key with `caller`; returns the created record (with its secret). */
  async createKey(caller: Caller, body: Record<string, unknown>): Promise<CreatedApiKey> {
    return ok(await caller.post("/v1/api-keys", body), `create key ${JSON.stringify(body)}`);
  }

  /** Sets (or with `null` removes) a member's access to a domain as the owner. */
  async grant(memberId: string, domain: string, access: "read" | "read_write" | null): Promise<void> {
    const path = `/v1/team/members/${memberId}/domain-access/${domain}`;
    ok(access === null ? await this.owner.delete(path) : await this.owner.put(path, { access }), `grant ${access} on ${domain}`);
  }
}

/** Where the server bundle goes: inside the project, so its packages resolve from node_modules. */
const BUNDLE_DIR = join(__dirname, "..", "..", "node_modules", ".cache", "postscale-server-tests");
let bundle: Promise<string> | undefined;

/**
 * Bundles test/helpers/server-process.ts with src/server once per Jest
 * worker. The file is named by its content, so workers share it and a new
 * build never overwrites one a running server was started from.
 */
function serverBundle(): Promise<string> {
  bundle ??= (async () => {
    const result = await build({
      entryPoints: [join(__dirname, "server-process.ts")],
      write: false,
      outfile: "server.js",
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      packages: "external",
      sourcemap: "inline",
      logLevel: "silent",
    });
    const code = result.outputFiles[0].contents;
    const outfile = join(BUNDLE_DIR, `server-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.js`);
    mkdirSync(BUNDLE_DIR, { recursive: true });
    if (!existsSync(outfile)) {
      const partial = `${outfile}.${process.pid}.tmp`;
      writeFileSync(partial, code);
      renameSync(partial, outfile);
    }
    return outfile;
  })();
  return bundle;
}

/** The longest a server may take to open its database, migrate and listen. */
const START_TIMEOUT_MS = 45_000;

/** One server in a child process; `close` stops it cleanly and waits for it to exit. */
class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly port: number,
    readonly bootstrapKey: string | undefined,
  ) {}

  static async start(options: ServerOptions): Promise<ServerProcess> {
    const entry = await serverBundle();
    const child = spawn(process.execPath, ["--enable-source-maps", entry], {
      env: { ...process.env, POSTSCALE_TEST_SERVER_OPTIONS: JSON.stringify(options) },
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const ready = await new Promise<{ url: string; port: number; bootstrapKey?: string }>((resolve, reject) => {
      let line = "";
      const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`test server ${why}:\n${output}`));
      };
      (child.stdio[3] as Readable).on("data", (chunk: Buffer) => {
        line += chunk.toString("utf8");
        const end = line.indexOf("\n");
        if (end < 0) return;
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(0, end)));
      });
      child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
      child.once("error", (error) => fail(`could not be spawned: ${error.message}`));
    });
    child.removeAllListeners("exit");
    return new ServerProcess(child, ready.url, ready.port, ready.bootstrapKey);
  }

  /** SIGKILL: the process dies wherever it is, mid-transaction included. */
  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGKILL");
    });
  }

  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.kill("SIGTERM");
    });
  }
}

/** Where a test server keeps its data, made fresh and removed afterwards. */
class Storage {
  private constructor(
    private readonly backend: Backend,
    private readonly dataDir: string,
    private readonly databaseUrl?: string,
  ) {}

  static async create(backend: Backend): Promise<Storage> {
    const dataDir = await mkdtemp(join(tmpdir(), "postscale-test-"));
    if (backend === "pglite") return new Storage(backend, dataDir);
    const base = process.env.POSTSCALE_TEST_DATABASE_URL;
    if (!base) throw new Error("POSTSCALE_TEST_DATABASE_URL is not set");
    return new Storage(backend, dataDir, await createTestDatabase(base));
  }

  options(overrides: ServerOverrides, firstStart: boolean): ServerOptions {
    return {
      rateLimit: false,
      dev: true,
      logger: false,
      ...overrides,
      port: 0,
      host: "127.0.0.1",
      dataDir: this.dataDir,
      ...(this.databaseUrl ? { databaseUrl: this.databaseUrl } : {}),
      ...(firstStart
        ? { bootstrap: { organization: ORGANIZATION, ownerEmail: OWNER_EMAIL, ownerPassword: OWNER_PASSWORD, domains: BOOTSTRAP_DOMAINS } }
        : {}),
    };
  }

  async destroy(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true });
    if (this.backend === "postgresql" && this.databaseUrl) {
      await dropTestDatabase(process.env.POSTSCALE_TEST_DATABASE_URL as string, this.databaseUrl);
    }
  }
}

/**
 * Registers beforeAll/afterAll that start a fresh server for the enclosing
 * describe block; call the returned function inside tests to get it.
 */
export function useServer(backend: Backend, overrides: ServerOverrides = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await TestServer.start(backend, overrides);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error("the test server is not running (did beforeAll fail?)");
    return server;
  };
}

function nameOf(email: string): string {
  return email.split("@")[0].replace(/[^a-z0-9]+/gi, " ").trim() || "Teammate";
}

/** A unique email for this run, so tests in one file never collide. */
export function uniqueEmail(label: string): string {
  return `${label}-${randomBytes(4).toString("hex")}@example.com`;
}

/** Promise-based sleep for expiry tests. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A person who went through the real sign-up flow. */
export interface Person {
  id: string;
  email: string;
  password: string;
  session: string;
  api: Caller;
}
