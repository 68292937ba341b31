import { jitteredBackoffMs, parseRetryAfterMs, retryDelayMs } from "../../src/api/backoff";
import { isRepeatSafe, isRetryableNetworkError, isRetryableStatus, networkErrorCode } from "../../src/api/retry-policy";

const settings = { minBackoffMs: 200, maxBackoffMs: 5000, maxRetryAfterMs: 60_000 };

describe("jitteredBackoffMs", () => {
  it("doubles the window per retry and caps it at maxBackoffMs", () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5, 6].map((retry) => jitteredBackoffMs(retry, settings, top))).toEqual([199, 399, 799, 1599, 3199, 4999, 4999]);
  });

  it("draws from the full window [0, ceiling)", () => {
    expect(jitteredBackoffMs(3, settings, () => 0)).toBe(0);
    expect(jitteredBackoffMs(3, settings, () => 0.5)).toBe(800);
  });
});

describe("parseRetryAfterMs", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads delay-seconds", () => {
    expect(parseRetryAfterMs("3", now)).toBe(3000);
    expect(parseRetryAfterMs(" 0 ", now)).toBe(0);
  });

  it("reads an HTTP-date relative to now, never negative", () => {
    expect(parseRetryAfterMs("Thu, 01 Jan 2026 00:00:02 GMT", now)).toBe(2000);
    expect(parseRetryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });

  it("ignores absent or unreadable values", () => {
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
    expect(parseRetryAfterMs("-1", now)).toBeUndefined();
  });
});

describe("retryDelayMs", () => {
  it("prefers Retry-After, capped at maxRetryAfterMs", () => {
    expect(retryDelayMs(0, 1500, settings, () => 0.5)).toBe(1500);
    expect(retryDelayMs(0, 3_600_000, settings, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(1, undefined, settings, () => 0.5)).toBe(200);
  });
});

describe("retry policy", () => {
  it("treats GET, PUT, PATCH, DELETE and keyed POSTs as safe to repeat, never an unkeyed POST", () => {
    expect(["GET", "HEAD", "PUT", "PATCH", "DELETE"].every((m) => isRepeatSafe(m as "GET", false))).toBe(true);
    expect(isRepeatSafe("POST", true)).toBe(true);
    expect(isRepeatSafe("POST", false)).toBe(false);
  });

  it("retries 429 for any request, 502/503/504 only when safe, never other statuses", () => {
    expect(isRetryableStatus(429, false)).toBe(true);
    expect([502, 503, 504].map((s) => isRetryableStatus(s, true))).toEqual([true, true, true]);
    expect([502, 503, 504].map((s) => isRetryableStatus(s, false))).toEqual([false, false, false]);
    expect([400, 401, 403, 404, 409, 422, 500, 501].some((s) => isRetryableStatus(s, true))).toBe(false);
  });

  it("finds connection errors through the cause chain", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const wrapped = new Error("fetch failed", { cause: reset });
    expect(networkErrorCode(wrapped)).toBe("ECONNRESET");
    expect(isRetryableNetworkError(wrapped, true)).toBe(true);
    expect(isRetryableNetworkError(wrapped, false)).toBe(false);
    expect(networkErrorCode(Object.assign(new Error("bad host"), { code: "ENOTFOUND" }))).toBeUndefined();
  });
});
