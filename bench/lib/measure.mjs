/** Running commands with timing, and small statistics for the benchmark tables. */
import { spawn } from "node:child_process";

/**
 * Runs `binary args` to completion without blocking this process (a server
 * answering the command may live here). Resolves with the wall time in ms
 * and the output; rejects with both streams when it exits non-zero.
 * `onSpawn(child)` is called once the process exists.
 */
export function runTimed(binary, args, { cwd, env, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(binary, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve({ ms, stdout, stderr });
      else reject(new Error(`${binary} ${args.join(" ")} exited ${code}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
    });
  });
}

/** The median (upper middle for an even count). */
export function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** A markdown table: `header` is a list of column names, `rows` lists of cells. */
export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Milliseconds with no decimals, or one below 10 ms. */
export function fmtMs(ms) {
  return ms < 10 ? ms.toFixed(1) : Math.round(ms).toString();
}

/** A ratio as "1.23x". */
export function fmtRatio(r) {
  return `${r.toFixed(2)}x`;
}

/** "met" or "missed" against an upper bound. */
export function verdict(value, limit) {
  return value <= limit ? "met" : "**missed**";
}

/** The number after `--<name>` on the command line, or `fallback`. */
export function numberOption(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
