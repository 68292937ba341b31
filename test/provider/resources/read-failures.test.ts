import { PostscaleError } from "../../../src/errors";
import { ReadFailures } from "../../../src/provider/resources/read-failures";

const down = () => new PostscaleError("POSTSCALE_E_NETWORK", `Cannot reach the Postscale API (attempt took ${Math.random()} ms)`);

describe("read failures are reported once per cause", () => {
  it("20 reads failing because the API is down give one error naming the other 19", async () => {
    const failures = new ReadFailures(30);
    const reports = await Promise.all(Array.from({ length: 20 }, (_, i) => failures.report(down(), `team member m${i}@example.com`, [])));
    const errors = reports.flat();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ severity: "error" });
    expect(errors[0].detail).toContain("Reading team member m0@example.com and 19 other Postscale resources");
  });

  it("reads that fail later in the same way (the engine's next batch) join the same report while it waits", async () => {
    // A wide quiet window, so a loaded machine's late timer still lands inside it.
    const failures = new ReadFailures(1000);
    const first = failures.report(down(), "a", []);
    await new Promise((r) => setTimeout(r, 20));
    const second = await failures.report(down(), "b", []);
    expect(second).toEqual([]);
    expect((await first)[0].detail).toContain("and 1 other Postscale resource ");
  });

  it("different causes are each reported", async () => {
    const failures = new ReadFailures(10);
    const [a, b] = await Promise.all([failures.report(down(), "a", []), failures.report(new Error("boom"), "b", [])]);
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
  });
});
