import { App, TerraformStack, Testing } from "cdktf";
import { PostscaleProvider } from "../../src";

/** A stack with the default Postscale provider, in a test app with a temp outdir. */
export function newStack(app: App = Testing.app()): TerraformStack {
  const stack = new TerraformStack(app, "test");
  new PostscaleProvider(stack, "postscale");
  return stack;
}

/** Synth with validations, the way `cdktf synth` does; returns the parsed JSON. */
export function synthJson(stack: TerraformStack): Record<string, any> {
  return JSON.parse(Testing.synth(stack, true));
}

/** The message `cdktf synth` fails with, or "" when it succeeds. */
export function synthFailure(build: (stack: TerraformStack) => void): string {
  const app = Testing.app();
  const stack = newStack(app);
  build(stack);
  try {
    app.synth();
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}
