/**
 * Idempotency across a crash: the server is SIGKILLed while creates with
 * Idempotency-Keys are in flight. Each create's claim, work and stored
 * response commit in one transaction, so after a restart a repeat of every
 * request either returns the committed result (same id, same secret) or
 * runs the request: never "still being processed", never a second key.
 */
import { BACKENDS, useServer } from "../helpers/server";
import type { HttpResponse } from "../helpers/http";
import { ok } from "../helpers/http";

const CREATES = 30;

describe.each(BACKENDS)("a crash between claim and commit on %s", (backend) => {
  const server = useServer(backend);

  test(`${CREATES} creates in flight when the server is killed: every repeat replays or runs, nothing doubles`, async () => {
    const s = server();
    const run = Date.now().toString(36);
    const body = (i: number) => ({ name: `crash-${run}-${i}`, owner: "organization" });
    const key = (i: number) => `crash-${run}-${i}`;
    const originals: (HttpResponse | Error)[] = new Array(CREATES);
    const inflight = Array.from({ length: CREATES }, (_, i) =>
      s.owner.post("/v1/api-keys", body(i), { idempotencyKey: key(i) }).then(
        (res) => (originals[i] = res),
        (err: Error) => (originals[i] = err),
      ),
    );
    // Kill as soon as the first create has been answered: the rest are queued, running or committing.
    await Promise.race(inflight);
    await s.crash();
    await Promise.all(inflight);

    const answered = originals.filter((r): r is HttpResponse => !(r instanceof Error) && r.status === 201).length;
    expect(answered).toBeGreaterThan(0);
    for (let i = 0; i < CREATES; i++) {
      const repeat = await s.owner.post("/v1/api-keys", body(i), { idempotencyKey: key(i) });
      expect(repeat.status).toBe(201);
      const original = originals[i];
      if (!(original instanceof Error) && original.status === 201) {
        expect(repeat.headers.get("idempotent-replayed")).toBe("true");
        expect(repeat.body).toEqual(original.body);
      }
      // The secret handed back works, whichever way it came.
      ok(await s.as(repeat.body.secret).get("/v1/domains"));
    }
    const keys = ok(await s.owner.get("/v1/api-keys?limit=1000")).data.filter((k: { name: string }) => k.name.startsWith(`crash-${run}-`));
    expect(keys).toHaveLength(CREATES);
  });
});
