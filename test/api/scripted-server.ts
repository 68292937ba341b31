/**
 * A real node:http server on port 0 whose answers each test scripts: every
 * request is recorded (method, url, headers, body) and handed to the next
 * scripted handler, or to the last one once the script runs out.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { PostscaleClient } from "../../src/api";
import { PostscaleError } from "../../src/errors";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (request: RecordedRequest, response: ServerResponse, raw: IncomingMessage) => void;

export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a server answering with `script[0]`, `script[1]`, ... and repeating the last handler. */
export async function startScriptedServer(...script: Handler[]): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((raw, response) => {
    const chunks: Buffer[] = [];
    raw.on("data", (chunk: Buffer) => chunks.push(chunk));
    raw.on("end", () => {
      const request = { method: raw.method ?? "", url: raw.url ?? "", headers: raw.headers, body: Buffer.concat(chunks).toString("utf8") };
      const handler = script[Math.min(requests.length, script.length - 1)];
      requests.push(request);
      handler(request, response, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON body. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    response.writeHead(status, { "content-type": "application/json", ...headers });
    response.end(JSON.stringify(body));
  };
}

/** Answers with an RFC 9457 problem body. */
export function problem(status: number, title: string, detail: string, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    response.writeHead(status, { "content-type": "application/problem+json", ...headers });
    response.end(JSON.stringify({ type: "about:blank", title, status, detail }));
  };
}

/** Destroys the socket without answering: the client sees a connection reset. */
export const resetConnection: Handler = (_request, _response, raw) => {
  raw.socket.destroy();
};

/** Answers 204 No Content. */
export const noContent: Handler = (_request, response) => {
  response.writeHead(204);
  response.end();
};

/** A sleep that records each requested delay and returns at once. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

/** What a test opened; {@link closeAfterEach} closes it. */
export interface Opened {
  server?: ScriptedServer;
  client?: PostscaleClient;
}

/** Registers an afterEach that closes the client and the server a test put in the returned object. */
export function closeAfterEach(): Opened {
  const opened: Opened = {};
  afterEach(async () => {
    await opened.client?.close();
    await opened.server?.close();
    opened.client = undefined;
    opened.server = undefined;
  });
  return opened;
}

/** The PostscaleError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function rejection(promise: Promise<unknown>): Promise<PostscaleError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PostscaleError);
  return error as PostscaleError;
}

/** Resolves once `condition` holds, polling every 5 ms; throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
