import { Duration, parseDuration } from "../src/duration";

describe("durations", () => {
  it.each([
    ["90d", 90 * 86_400],
    ["36h", 36 * 3_600],
    ["1h30m", 5_400],
    ["45s", 45],
    ["0s", 0],
  ])("parses %s as %i seconds", (text, seconds) => {
    expect(parseDuration(text)).toEqual({ seconds });
  });

  it.each(["", "15", "1.5h", "-1h", "15 m", "1w", "h"])("refuses %j with the accepted forms", (text) => {
    expect(parseDuration(text)).toEqual({ problem: expect.stringContaining('such as "90d"') });
  });

  it("renders in the largest whole unit, which parses back to the same seconds", () => {
    expect([Duration.days(90), Duration.hours(36), Duration.minutes(90), Duration.seconds(45), Duration.seconds(0)].map(String)).toEqual(["90d", "36h", "90m", "45s", "0s"]);
    for (const d of [Duration.days(2), Duration.minutes(61), Duration.seconds(3_601)]) expect(parseDuration(d.toString())).toEqual({ seconds: d.toSeconds() });
  });

  it("refuses fractions and negatives", () => {
    expect(() => Duration.seconds(1.5)).toThrow(RangeError);
    expect(() => Duration.days(-1)).toThrow(RangeError);
  });
});
