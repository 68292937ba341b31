import type { Command } from "commander";

/** Registers `postscale review`. */
export function register(program: Command): void {
  void program;
}
