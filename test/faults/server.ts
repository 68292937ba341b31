/**
 * The Postscale server as the operator runs it (`node bin/postscale.js
 * server --dev`, from the built dist/), in a process the fault runs can
 * SIGKILL and start again on the same data: a PGlite data directory, or a
 * PostgreSQL database when POSTSCALE_TEST_DATABASE_URL is set.
 *
 * Bootstrapping an organization (PGlite's first start, password hashing)
 * is the slow part of a start, so it happens once per backend into a
 * template: each run gets a copy of the template's data directory, or a
 * database created from the template database.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repositoryRoot } from "../../src/provider/engine";
import { createTestDatabase, dropTestDatabase } from "../helpers/databases";

export type Backend = "pglite" | "postgresql";

export const ORGANIZATION = "Acme";
export const OWNER_EMAIL = "owner@acme.test";
export const OWNER_PASSWORD = "correct horse battery staple";
/** The domains the fixture's grants and keys name. */
export const DOMAINS = ["acme.com", "acme.dev", "shop.acme.com"];

/** The longest a server may take to open its database (and recover after a kill) and listen. */
const START_TIMEOUT_MS = 120_000;

/** The PostgreSQL server the postgresql backend makes its databases in, or undefined. */
export function postgresAdminUrl(): string | undefined {
  return process.env.POSTSCALE_TEST_DATABASE_URL || undefined;
}

/** Where one run's server keeps its data. */
export interface Storage {
  backend: Backend;
  dataDir: string;
  databaseUrl?: string;
  /** The owner's organization-wide key (the bootstrap key). */
  ownerKey: string;
  destroy(): Promise<void>;
}

/** A bootstrapped organization, copied for each run. */
export class StorageTemplate {
  private constructor(
    readonly backend: Backend,
    private readonly root: string,
    private readonly dataDir: string,
    private readonly databaseUrl: string | undefined,
    readonly ownerKey: string,
  ) {}

  /** Starts a server once with the bootstrap settings on fresh storage under `root`, and stops it cleanly. */
  static async create(backend: Backend, root: string): Promise<StorageTemplate> {
    mkdirSync(root, { recursive: true });
    const dataDir = join(root, "template-data");
    let databaseUrl: string | undefined;
    if (backend === "postgresql") {
      const admin = postgresAdminUrl();
      if (!admin) throw new Error("the postgresql backend needs POSTSCALE_TEST_DATABASE_URL (e.g. the URL in /tmp/pgurl, or from scripts/ci-postgres.sh --url)");
      databaseUrl = await createTestDatabase(admin);
    }
    const keyFile = join(root, "owner.key");
    const server = await ServerProcess.start({
      dataDir,
      databaseUrl,
      port: 0,
      bootstrapEnv: {
        POSTSCALE_BOOTSTRAP_ORG: ORGANIZATION,
        POSTSCALE_BOOTSTRAP_OWNER_EMAIL: OWNER_EMAIL,
        POSTSCALE_BOOTSTRAP_OWNER_PASSWORD: OWNER_PASSWORD,
        POSTSCALE_BOOTSTRAP_DOMAINS: DOMAINS.join(","),
        POSTSCALE_BOOTSTRAP_KEY_FILE: keyFile,
      },
    });
    await server.stop();
    if (!existsSync(keyFile)) throw new Error(`the server did not bootstrap (no ${keyFile}):\n${server.output()}`);
    return new StorageTemplate(backend, root, dataDir, databaseUrl, readFileSync(keyFile, "utf8").trim());
  }

  /** Fresh storage holding the bootstrapped organization. */
  async clone(label: string): Promise<Storage> {
    const dataDir = join(this.root, `data-${label}`);
    rmSync(dataDir, { recursive: true, force: true });
    let databaseUrl: string | undefined;
    if (this.backend === "pglite") {
      cpSync(this.dataDir, dataDir, { recursive: true });
    } else {
      mkdirSync(dataDir, { recursive: true });
      const template = new URL(this.databaseUrl!).pathname.slice(1);
      databaseUrl = await createTestDatabase(postgresAdminUrl()!, template);
    }
    return {
      backend: this.backend,
      dataDir,
      databaseUrl,
      ownerKey: this.ownerKey,
      destroy: async () => {
        rmSync(dataDir, { recursive: true, force: true });
        if (databaseUrl) await dropDatabase(databaseUrl);
      },
    };
  }

  async destroy(): Promise<void> {
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.databaseUrl) await dropDatabase(this.databaseUrl);
  }
}

export interface ServerStart {
  dataDir: string;
  databaseUrl?: string;
  /** 0 picks a free port; a restart passes the port of the first start. */
  port: number;
  bootstrapEnv?: Record<string, string>;
}

/** One `postscale server` process. */
export class ServerProcess {
  private log = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly port: number,
  ) {}

  static async start(options: ServerStart): Promise<ServerProcess> {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && name !== "DATABASE_URL" && !name.startsWith("POSTSCALE_BOOTSTRAP_")) env[name] = value;
    }
    if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
    Object.assign(env, options.bootstrapEnv ?? {});
    const bin = join(repositoryRoot(), "bin", "postscale.js");
    const args = [bin, "server", "--dev", "--host", "127.0.0.1", "--port", String(options.port), "--data-dir", options.dataDir, "--no-log"];
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    };
    child.stderr?.on("data", keep);
    const url = await new Promise<string>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`postscale server ${why}:\n${output}`));
      };
      const timer = setTimeout(() => fail(`did not listen within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      child.stdout?.on("data", (chunk: Buffer) => {
        keep(chunk);
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before it listened`));
      child.once("error", (error) => fail(`could not be spawned: ${error.message}`));
    });
    child.removeAllListeners("exit");
    const server = new ServerProcess(child, url, Number(new URL(url).port));
    server.log = output;
    child.stdout?.on("data", (chunk: Buffer) => (server.log = (server.log + chunk.toString("utf8")).slice(-20_000)));
    child.stderr?.on("data", (chunk: Buffer) => (server.log = (server.log + chunk.toString("utf8")).slice(-20_000)));
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last output of the server. */
  output(): string {
    return this.log;
  }

  /** SIGKILL: no shutdown, no flush; resolves when the process is gone. */
  kill(): Promise<void> {
    return this.signal("SIGKILL");
  }

  /** SIGTERM (the clean shutdown), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    try {
      await this.signal("SIGTERM");
    } finally {
      clearTimeout(timer);
    }
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill(signal);
    });
  }
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  const admin = postgresAdminUrl();
  if (admin) await dropTestDatabase(admin, databaseUrl);
}
