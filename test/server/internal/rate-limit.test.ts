import { MemoryWindows, RateLimiter, parseRateLimit } from "../../../src/server/rate-limit";

describe("RateLimiter", () => {
  it("allows max requests per window per key, then answers with the seconds left", async () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 10_000, new MemoryWindows(() => now));
    expect([await limiter.hit("a"), await limiter.hit("a"), await limiter.hit("a")]).toEqual([0, 0, 0]);
    expect(await limiter.hit("a")).toBe(10);
    expect(await limiter.hit("b")).toBe(0);
    now += 7_500;
    expect(await limiter.hit("a")).toBe(3);
    now += 2_500;
    expect(await limiter.hit("a")).toBe(0);
  });
});

describe("parseRateLimit", () => {
  it.each([
    ["600/1m", { max: 600, windowMs: 60_000 }],
    ["6000/60s", { max: 6000, windowMs: 60_000 }],
    ["10/500ms", { max: 10, windowMs: 500 }],
    ["5/h", { max: 5, windowMs: 3_600_000 }],
    ["100", null],
  ])("%s", (text, expected) => {
    if (expected === null) expect(() => parseRateLimit(text)).toThrow(/--rate-limit/);
    else expect(parseRateLimit(text)).toEqual(expected);
  });

  it("turns off", () => {
    expect(parseRateLimit("off")).toBe(false);
  });
});
