import type { Command } from "commander";

/** Registers `postscale provider`. */
export function register(program: Command): void {
  void program;
}
