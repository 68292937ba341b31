import { Domain, Duration, Team } from "../../src";
import { newStack, synthJson } from "./helpers";

const APP = "app.example.com";
const MATERIAL = "${ephemeral.random_password.payments.result}";

describe("API key rotation and write-only material in the constructs", () => {
  it("rotateEvery, rotationOverlap and rotationTrigger become the provider's duration strings", () => {
    const stack = newStack();
    const team = new Team(stack, "team");
    const dev = team.addMember("dev@example.com", { domains: { [APP]: "read_write" } });
    const key = dev.apiKey("ci", { rotateEvery: Duration.days(90), rotationOverlap: Duration.minutes(10) });
    const service = team.serviceKey("billing", { domains: [Domain.fromName(stack, "app", APP)], rotationTrigger: "2026-07" });
    const keys = synthJson(stack).resource.postscale_api_key;
    expect(keys[key.resource.friendlyUniqueId]).toMatchObject({ rotate_every: "90d", rotation_overlap: "10m" });
    expect(keys[key.resource.friendlyUniqueId]).not.toHaveProperty("rotation_trigger");
    expect(keys[service.resource.friendlyUniqueId]).toMatchObject({ rotation_trigger: "2026-07" });
    expect(keys[service.resource.friendlyUniqueId]).not.toHaveProperty("rotate_every");
  });

  it("without the new options the synth output is unchanged (no rotation or write-only attributes)", () => {
    const stack = newStack();
    const key = new Team(stack, "team").serviceKey("plain");
    const json = synthJson(stack).resource.postscale_api_key[key.resource.friendlyUniqueId];
    expect(Object.keys(json).filter((k) => /rotat|secret/.test(k))).toEqual([]);
  });

  it("secretFrom writes secret_wo and secret_wo_version as given, and key.secret says to use the material", () => {
    const stack = newStack();
    const key = new Team(stack, "team").serviceKey("payments", { secretFrom: { material: MATERIAL, version: 2 } });
    expect(synthJson(stack).resource.postscale_api_key[key.resource.friendlyUniqueId]).toMatchObject({ secret_wo: MATERIAL, secret_wo_version: 2 });
    expect(() => key.secret).toThrow(/secretFrom.*never returns.*use the material you passed/);
  });

  it.each([
    ["rotateEvery of zero", { rotateEvery: Duration.seconds(0) }, /rotateEvery must be longer than zero/],
    ["an overlap over a day", { rotationOverlap: Duration.hours(25) }, /rotationOverlap must be at most 24 hours.*got 25h/],
    ["an empty trigger", { rotationTrigger: "" }, /rotationTrigger must not be empty/],
  ])("refuses %s with the fix", (_label, options, message) => {
    const team = new Team(newStack(), "team");
    expect(() => team.serviceKey("bad", options)).toThrow(message);
  });
});
