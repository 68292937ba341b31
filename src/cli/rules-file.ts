import type { InvariantRule } from "../policy";

/** Reads a rules file (`access-rules.json`, which synth writes); every problem names the file and the field. */
export async function readRulesFile(path: string): Promise<InvariantRule[]> {
  const { readFile } = await import("node:fs/promises");
  const { ValidationError } = await import("../errors");
  const { parseRuleSet } = await import("../policy");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ValidationError([{ path, message: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const parsed = parseRuleSet(text);
  if ("problems" in parsed) throw new ValidationError(parsed.problems.map((p) => ({ path: `${path}${p.path}`, message: p.message })));
  return [...parsed.ruleSet.rules];
}
