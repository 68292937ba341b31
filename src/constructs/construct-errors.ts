import type { IConstruct } from "constructs";
import { PostscaleError } from "../errors";

/** Where this package's code lives (src/ in the repository, dist/src/ once built). */
const OWN_SOURCES = `${require("node:path").dirname(__dirname)}/`;

/**
 * Runs a declaration of `scope`. A PostscaleError it throws leaves as a
 * person reads a failed synth: its message, the construct's path and the
 * line of the user's code that made the call; the package's own frames and
 * the error's fields (code, status, …, still readable by tools) are not
 * printed, since Node prints an uncaught error's stack and enumerable fields.
 */
export function inConstruct<T>(scope: IConstruct, declare: () => T): T {
  try {
    return declare();
  } catch (err) {
    if (err instanceof PostscaleError && err.constructPath === undefined) present(err, scope.node.path);
    throw err;
  }
}

function present(err: PostscaleError, path: string): void {
  err.constructPath = path;
  const frames = (err.stack ?? "").split("\n").filter((line) => line.startsWith("    at "));
  const callers = frames.filter((line) => !line.includes(OWN_SOURCES) && !line.includes("node:internal") && !line.includes("/node_modules/"));
  err.stack = [`${err.name}: ${err.message}`, `    in ${path}`, ...callers.slice(0, 2)].join("\n");
  for (const key of Object.keys(err)) Object.defineProperty(err, key, { enumerable: false });
}
