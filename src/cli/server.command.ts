import type { Command } from "commander";

/** Registers `postscale server`. */
export function register(program: Command): void {
  void program;
}
