import type { FastifyReply, FastifyRequest } from "fastify";
import { decideOrganizationAction } from "../policy";
import type { Authenticator } from "./auth";
import { type Caller, callerOf } from "./context";
import type { Database, Queryable } from "./db/adapter";
import { lockOrganizationForWrite } from "./data/organization";
import { findResponse, purgeExpired, storeResponse } from "./idempotency";
import { fromViolation } from "./problem";

/** What a write's body gets: its transaction, the caller as of that transaction, and a hook for after the commit. */
export interface WriteScope {
  tx: Queryable;
  caller: Caller;
  /** Runs `fn` once the transaction has committed (mail is sent only for writes that happened). */
  afterCommit(fn: () => void): void;
}

const PURGE_EVERY_MS = 60_000;

/**
 * Every authenticated write runs through here, in one transaction that:
 * 1. locks the organization's row, so the writes of one organization take
 *    turns and each sees everything committed before it;
 * 2. loads the caller again from its credential and re-checks the route's
 *    organization action, so nothing commits on a role, grant, key or
 *    session that an earlier write has already changed or revoked;
 * 3. replays the stored response of a repeated `Idempotency-Key`, or keeps
 *    this write's response under it, in the same commit as the work.
 */
export class Writer {
  private lastPurge = 0;

  constructor(
    private readonly db: Database,
    private readonly authenticator: Authenticator,
    private readonly idempotencyTtlSeconds: number,
  ) {}

  async run<T>(request: FastifyRequest, reply: FastifyReply, status: number, fn: (scope: WriteScope) => Promise<T>): Promise<T> {
    const orgId = callerOf(request).orgId;
    const claim = request.idempotency;
    let after: (() => void)[] = [];
    const outcome = await this.db.transaction(async (tx) => {
      after = [];
      await lockOrganizationForWrite(tx, orgId);
      const caller = await this.authenticator.reload(tx, request);
      const action = request.routeOptions.config.orgAction;
      if (action) {
        const decision = decideOrganizationAction(caller.principal, action);
        if (!decision.allowed) throw fromViolation(decision);
      }
      request.caller = caller;
      if (claim) {
        const stored = await findResponse(tx, claim);
        if (stored) return { replayed: true as const, ...stored };
        await this.purge(tx);
      }
      const body = await fn({ tx, caller, afterCommit: (f) => after.push(f) });
      if (claim) await storeResponse(tx, claim, orgId, { status, body }, this.idempotencyTtlSeconds);
      return { replayed: false as const, status, body };
    });
    reply.code(outcome.status);
    if (outcome.replayed) reply.header("idempotent-replayed", "true");
    else for (const f of after) f();
    return outcome.body as T;
  }

  /** {@link run} for a write that answers 204 No Content. */
  async runNoContent(request: FastifyRequest, reply: FastifyReply, fn: (scope: WriteScope) => Promise<void>): Promise<FastifyReply> {
    await this.run(request, reply, 204, fn);
    return reply.send();
  }

  private async purge(tx: Queryable): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    await purgeExpired(tx);
  }
}
