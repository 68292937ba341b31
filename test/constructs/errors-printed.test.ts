/**
 * What a person sees when a declaration is refused: Node prints an uncaught
 * error as `inspect(error, { customInspect: false })` (its stack and its
 * enumerable fields). A construct error must print as its message, the
 * construct's path and the line of the caller's code, and nothing else.
 */
import { inspect } from "node:util";
import { Testing } from "cdktf";
import { Domain, PostscaleError, Team } from "../../src";

function refused(declare: () => unknown): PostscaleError {
  try {
    declare();
  } catch (err) {
    expect(err).toBeInstanceOf(PostscaleError);
    return err as PostscaleError;
  }
  throw new Error("expected the declaration to be refused");
}

function printed(err: PostscaleError): string[] {
  return inspect(err, { customInspect: false }).split("\n");
}

describe("a refused declaration as Node prints it", () => {
  it("a duplicate person: message, construct path, the caller's line; fields stay readable but are not printed", () => {
    Testing.synthScope((scope) => {
      const team = new Team(scope, "team");
      team.addMember("dev@example.com");
      const err = refused(() => team.addAdmin("Dev@example.com"));
      const lines = printed(err);
      expect(lines[0]).toBe("PostscaleError: dev@example.com is declared twice in team team (as member and as admin). A person has one role: keep one declaration.");
      expect(lines[1]).toMatch(/^ {4}in .*\/team$/);
      expect(lines[2]).toMatch(/^ {4}at .*errors-printed\.test\.ts:\d+:\d+\)?$/);
      expect(lines.join("\n")).not.toMatch(/src\/constructs|code:|status:|problem:|attempts:|exitCode/);
      expect(err.code).toBe("POSTSCALE_E_CONFLICT");
      expect(err.constructPath).toBe(lines[1].trim().slice(3));
    });
  });

  it("a grant the policy refuses: the rule in the message, the member's path", () => {
    Testing.synthScope((scope) => {
      const ops = new Team(scope, "team").addAdmin("ops@example.com");
      const err = refused(() => Domain.fromName(scope, "app", "app.example.com").grantRead(ops));
      const text = printed(err).join("\n");
      expect(text).toContain("(rule grants_only_for_members)");
      expect(text).toMatch(/\n {4}in .*\/team\/ops@example\.com\n/);
      expect(text).not.toMatch(/src\/constructs|exitCode/);
      expect(err.rule).toBe("grants_only_for_members");
    });
  });
});

describe("the owner, when the team records who it is", () => {
  it("fails synth when declared as a member or an admin, in any spelling, and names the fix", () => {
    Testing.synthScope((scope) => {
      const team = new Team(scope, "team", { owner: "Owner@example.com" });
      expect(team.owner).toBe("owner@example.com");
      for (const declare of [() => team.addAdmin("owner@example.com"), () => team.addMember(" OWNER@example.com")]) {
        const err = refused(declare);
        expect(err.code).toBe("POSTSCALE_E_VALIDATION");
        expect(err.message).toMatch(/^owner@example\.com is the organization's owner .*remove this declaration/);
      }
      expect(team.members).toEqual([]);
      expect(() => team.addMember("dev@example.com")).not.toThrow();
    });
  });

  it("refuses an owner that is not an email", () => {
    Testing.synthScope((scope) => {
      expect(refused(() => new Team(scope, "team", { owner: "owner" })).errors).toEqual([{ path: "owner", message: expect.any(String) }]);
    });
  });
});
