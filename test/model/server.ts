/**
 * A TestServer (test/helpers/server.ts) as the model test needs it: request
 * logging on, every line the server process writes kept, and a way to stop
 * the process while keeping its storage so the storage can be scanned.
 *
 * TestServer keeps its child process and storage private; this wrapper
 * reaches them by name and fails loudly if the harness changes shape, so the
 * shared harness stays untouched.
 */
import type { ChildProcess } from "node:child_process";
import { type Backend, TestServer } from "../helpers/server";

interface HarnessInternals {
  storage?: { dataDir?: unknown; databaseUrl?: unknown };
  running?: { child?: ChildProcess; close?: () => Promise<void> };
}

export class ModelServer {
  private output: string[] = [];

  private constructor(
    readonly server: TestServer,
    readonly dataDir: string,
    readonly databaseUrl: string | undefined,
  ) {}

  static async start(backend: Backend): Promise<ModelServer> {
    // Request logs on, so the scan covers what an operator's log would hold.
    const server = await TestServer.start(backend, { logger: true });
    const internals = server as unknown as HarnessInternals;
    const dataDir = internals.storage?.dataDir;
    const databaseUrl = internals.storage?.databaseUrl;
    const child = internals.running?.child;
    if (typeof dataDir !== "string" || !child?.stderr || !child.stdout) {
      await server.stop();
      throw new Error("test/model/server.ts: TestServer no longer exposes storage.dataDir / running.child; update the wrapper");
    }
    const ms = new ModelServer(server, dataDir, typeof databaseUrl === "string" ? databaseUrl : undefined);
    child.stderr.on("data", (chunk: Buffer) => ms.output.push(chunk.toString("utf8")));
    child.stdout.on("data", (chunk: Buffer) => ms.output.push(chunk.toString("utf8")));
    return ms;
  }

  get backend(): Backend {
    return this.server.backend;
  }

  /** Everything the server process wrote to stdout and stderr since it started listening. */
  log(): string {
    return this.output.join("");
  }

  /** Stops the server process; the storage stays until destroy(). */
  async stopProcess(): Promise<void> {
    const running = (this.server as unknown as HarnessInternals).running;
    if (!running?.close) throw new Error("test/model/server.ts: TestServer no longer exposes running.close");
    await running.close.call(running);
  }

  /** Stops the server (if still running) and deletes its storage. */
  async destroy(): Promise<void> {
    await this.server.stop();
  }
}
