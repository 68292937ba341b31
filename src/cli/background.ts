/**
 * `postscale server --background` / `--stop`: run the local server as a
 * detached process, the way `pg_ctl start -w` does. Start returns only once
 * the server printed its address (or failed), so the next command of a
 * script can use it; the pid file lets `--stop` find it again.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PostscaleError } from "../errors";

const START_TIMEOUT_MS = 60_000;
const LISTENING = /Postscale API listening on (\S+)/;

function files(dataDir: string): { pid: string; log: string } {
  return { pid: join(resolve(dataDir), "server.pid"), log: join(resolve(dataDir), "server.log") };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/** Starts `postscale <args>` detached and waits until it listens. */
export async function startBackground(args: string[], dataDir: string): Promise<void> {
  const { pid: pidFile, log: logFile } = files(dataDir);
  const running = runningPid(pidFile);
  if (running !== undefined) {
    throw new PostscaleError("POSTSCALE_E_CONFIG", `a server started from ${dataDir} is already running (pid ${running}); stop it with: postscale server --stop --data-dir ${dataDir}`);
  }
  mkdirSync(resolve(dataDir), { recursive: true });
  const log = openSync(logFile, "w");
  const child = spawn(process.execPath, [process.argv[1], ...args], { detached: true, stdio: ["ignore", log, log], env: process.env });
  closeSync(log);
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const output = readFileSync(logFile, "utf8");
    const url = LISTENING.exec(output)?.[1];
    if (url) {
      writeFileSync(pidFile, `${child.pid}\n`);
      child.unref();
      process.stdout.write(`Postscale API listening on ${url} (pid ${child.pid}, log ${logFile}); stop it with: postscale server --stop${dataDir === "./.postscale" ? "" : ` --data-dir ${dataDir}`}\n`);
      return;
    }
    if (exited !== undefined) {
      throw new PostscaleError("POSTSCALE_E_CONFIG", `the server exited (code ${exited}) before it listened; its output:\n${output.trim()}`);
    }
    await sleep(100);
  }
  child.kill("SIGTERM");
  throw new PostscaleError("POSTSCALE_E_CONFIG", `the server did not listen within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

/** Stops the server a `--background` start left in `dataDir`, and waits for it to exit. */
export async function stopBackground(dataDir: string): Promise<void> {
  const { pid: pidFile } = files(dataDir);
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    rmSync(pidFile, { force: true });
    process.stdout.write(`no server started from ${dataDir} is running\n`);
    return;
  }
  process.kill(pid, "SIGTERM");
  for (let waited = 0; alive(pid) && waited < 30_000; waited += 100) await sleep(100);
  rmSync(pidFile, { force: true });
  process.stdout.write(`stopped the server (pid ${pid})\n`);
}
