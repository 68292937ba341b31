/**
 * Peak resident memory of processes found by their command line, sampled
 * from /proc while something runs (Linux only). VmHWM is the kernel's own
 * high-water mark, so a sample taken any time before exit sees the peak up
 * to then; sampling every few tens of milliseconds misses at most the last
 * moments of a process.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Kernel status fields, in kB, of one process; undefined once it is gone. */
function statusKb(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
    return { hwm: field("VmHWM"), rss: field("VmRSS") };
  } catch {
    return undefined;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/**
 * Starts sampling every `intervalMs` the processes whose command line
 * contains `marker` (e.g. a temporary install path only they run from).
 * `stop()` returns `{ processes, peakKb }`: how many distinct processes were
 * seen and the largest VmHWM of any one of them.
 *
 * Other processes are remembered as not matching, so a tick reads one
 * command line per new process only; those whose command line contains one
 * of `recheck` (the engine forked but not yet exec'ing, a launcher script
 * not yet exec'ing node) are checked again on every tick.
 */
export function sampleByCommandLine(marker, recheck, intervalMs = 25) {
  const peaks = new Map();
  const matches = new Map();
  const tick = () => {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (!matches.has(pid)) {
        const line = cmdline(pid);
        if (line.includes(marker)) matches.set(pid, true);
        else if (!recheck.some((r) => line.includes(r))) matches.set(pid, false);
      }
      if (!matches.get(pid)) continue;
      const kb = statusKb(pid);
      if (kb) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, kb.hwm, kb.rss));
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return { processes: peaks.size, peakKb: Math.max(0, ...peaks.values()) };
    },
  };
}

/** Like {@link sampleByCommandLine} for one known process id (e.g. the engine itself). */
export function sampleProcess(pid, intervalMs = 25) {
  let peak = 0;
  const tick = () => {
    const kb = statusKb(pid);
    if (kb) peak = Math.max(peak, kb.hwm, kb.rss);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
