import { PostscaleClient } from "../../src/api";
import { PostscaleError } from "../../src/errors";
import { json, problem, startScriptedServer, type Handler, type ScriptedServer } from "./scripted-server";

let server: ScriptedServer | undefined;
let client: PostscaleClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function failureOf(handler: Handler, call: (c: PostscaleClient) => Promise<unknown>): Promise<PostscaleError> {
  server = await startScriptedServer(handler);
  client = new PostscaleClient({ endpoint: server.url, apiKey: "ps_live_TOPSECRET", retries: 0 });
  const error = await call(client).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PostscaleError);
  return error as PostscaleError;
}

describe("error mapping", () => {
  it.each([
    [401, "POSTSCALE_E_UNAUTHENTICATED"],
    [403, "POSTSCALE_E_FORBIDDEN"],
    [404, "POSTSCALE_E_NOT_FOUND"],
    [409, "POSTSCALE_E_CONFLICT"],
    [422, "POSTSCALE_E_VALIDATION"],
    [429, "POSTSCALE_E_RATE_LIMITED"],
    [500, "POSTSCALE_E_SERVER"],
  ])("maps %i to %s with status and problem", async (status, code) => {
    const error = await failureOf(problem(status, "Some Title", "what went wrong"), (c) => c.getDomain("a.example.com"));
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.problem).toEqual({ type: "about:blank", title: "Some Title", status, detail: "what went wrong" });
    expect(error.message).toBe(`GET /v1/domains/a.example.com: ${status} Some Title: what went wrong`);
  });

  it("keeps validation field errors from the problem body", async () => {
    const body = {
      type: "https://postscale.dev/problems/validation",
      title: "Invalid input",
      status: 422,
      detail: "1 field is invalid",
      errors: [{ path: "/role", message: "must be one of admin, member" }],
    };
    const error = await failureOf(json(422, body), (c) => c.inviteMember({ email: "a@example.com", role: "owner" as "admin" }));
    expect(error.errors).toEqual([{ path: "/role", message: "must be one of admin, member" }]);
    expect(error.problem).toEqual(body);
    expect(error.message).toBe("POST /v1/team/members: 422 Invalid input: 1 field is invalid");
  });

  it("synthesizes a problem when the body is not problem+json", async () => {
    const error = await failureOf(
      (_req, res) => {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html>upstream down</html>");
      },
      (c) => c.getOrganization(),
    );
    expect(error.code).toBe("POSTSCALE_E_SERVER");
    expect(error.problem).toEqual({ type: "about:blank", title: "Bad Gateway", status: 502, detail: "<html>upstream down</html>" });
    expect(error.message).toBe("GET /v1/organization: 502 Bad Gateway: <html>upstream down</html>");
  });

  it("synthesizes a problem for an empty error body", async () => {
    const error = await failureOf((_req, res) => res.writeHead(404).end(), (c) => c.getMember("m1"));
    expect(error.problem).toEqual({ type: "about:blank", title: "Not Found", status: 404 });
    expect(error.message).toBe("GET /v1/team/members/m1: 404 Not Found");
  });

  it("never shows the credential or an invitation token in messages", async () => {
    const error = await failureOf(problem(404, "Not Found", "no such invitation"), (c) => c.getInvitation("inv_TOKEN_123"));
    expect(error.message).toBe("GET /v1/invitations/{token}: 404 Not Found: no such invitation");
    const text = `${error.message} ${JSON.stringify(error)} ${error.stack}`;
    expect(text).not.toContain("TOPSECRET");
    expect(text).not.toContain("inv_TOKEN_123");
  });

  it("reports a 2xx body that is not JSON as a server error", async () => {
    const error = await failureOf((_req, res) => res.writeHead(200).end("not json"), (c) => c.getOrganization());
    expect(error.code).toBe("POSTSCALE_E_SERVER");
    expect(error.message).toBe("GET /v1/organization: the server answered with a body that is not JSON");
  });

  it("rejects an endpoint that is not an absolute http(s) URL", () => {
    expect(() => new PostscaleClient({ endpoint: "127.0.0.1:4000" })).toThrow(/endpoint/);
    expect(() => new PostscaleClient({ endpoint: "localhost" })).toThrow(expect.objectContaining({ code: "POSTSCALE_E_CONFIG" }));
  });
});
