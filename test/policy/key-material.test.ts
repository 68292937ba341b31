import { randomBytes, randomInt } from "node:crypto";
import { keyMaterialProblem } from "../../src/policy";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

describe("keyMaterialProblem: the bring-your-own secret rule", () => {
  test("random material of the usual shapes passes, every time", () => {
    for (let i = 0; i < 500; i++) {
      expect(keyMaterialProblem(randomBytes(24).toString("base64url"))).toBeUndefined(); // 32 characters
      expect(keyMaterialProblem(Array.from({ length: 32 }, () => ALNUM[randomInt(ALNUM.length)]).join(""))).toBeUndefined(); // random_password, special = false
      expect(keyMaterialProblem(randomBytes(32).toString("hex"))).toBeUndefined();
      expect(keyMaterialProblem(`ps_${randomBytes(32).toString("base64url")}`)).toBeUndefined();
    }
  });

  test.each([
    ["length", "a1B2c3", /32 to 256 characters long, got 6/],
    ["alphabet", `${randomBytes(30).toString("base64url")} é`, /may contain only letters, digits/],
    ["variety", "aAbB".repeat(10), /at least 10 different characters/],
    ["entropy", "0123456789012345678901234567890123", /too little entropy|repetitive/],
    ["repetition", "x9$Lq2@Vn7#Z".repeat(3), /repetitive/],
    ["sequence", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", /repetitive/],
    ["session prefix", `pss_${randomBytes(30).toString("base64url")}`, /pss_/],
  ])("%s", (_rule, material, message) => {
    expect(keyMaterialProblem(material)).toMatch(message);
  });

  test("never repeats the material", () => {
    const bad = `${randomBytes(30).toString("base64url")}"`;
    expect(keyMaterialProblem(bad)).not.toContain(bad.slice(0, 10));
  });
});
