import { Readable } from "node:stream";
import { Command } from "commander";

/** What a command printed and the exit code it set. */
export interface CommandRun {
  stdout: string;
  exitCode: number;
}

/**
 * Runs one `postscale` subcommand in-process (registered by `register`),
 * capturing stdout and the exit code it sets; `stdin` replaces standard
 * input for the run. Errors are thrown as the CLI's error mapper would get them.
 */
export async function runCommand(register: (program: Command) => void, args: string[], stdin?: string): Promise<CommandRun> {
  const program = new Command("postscale").exitOverride();
  register(program);
  let stdout = "";
  const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const realStdin = Object.getOwnPropertyDescriptor(process, "stdin")!;
  if (stdin !== undefined) Object.defineProperty(process, "stdin", { value: Readable.from([Buffer.from(stdin)]), configurable: true });
  process.exitCode = 0;
  try {
    await program.parseAsync(["node", "postscale", ...args]);
    return { stdout, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    write.mockRestore();
    Object.defineProperty(process, "stdin", realStdin);
    process.exitCode = 0;
  }
}
