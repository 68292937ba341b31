/**
 * Entry of the child process the server suite runs the server in: a real
 * process on a real socket, outside Jest's module sandbox (PGlite loads its
 * WebAssembly with dynamic imports, which the sandbox refuses). Options come
 * in POSTSCALE_TEST_SERVER_OPTIONS; one JSON line on file descriptor 3 says
 * where it listens (`{url, port, bootstrapKey}`); SIGTERM or the parent
 * closing stdin stops it cleanly.
 */
import { writeSync } from "node:fs";
import { startServer, type ServerOptions } from "../../src/server";

/** The pipe the parent reads the ready line from, apart from the server's own output. */
const READY_FD = 3;

async function main(): Promise<void> {
  const options = JSON.parse(process.env.POSTSCALE_TEST_SERVER_OPTIONS ?? "{}") as ServerOptions;
  const server = await startServer(options);
  writeSync(READY_FD, `${JSON.stringify({ url: server.url, port: server.port, bootstrapKey: server.bootstrapKey })}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`close failed: ${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
