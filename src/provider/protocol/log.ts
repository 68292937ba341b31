/**
 * Logging for a provider process, in the format the engine understands.
 *
 * go-plugin reads the provider's stderr line by line; a line that is a JSON
 * object with `@level` and `@message` is shown at that level under
 * `TF_LOG`. `@timestamp` is left out on purpose: the engine's parser expects
 * a timestamp with exactly six fractional digits and adds its own anyway.
 * stdout is reserved for the handshake line, so nothing here writes there.
 *
 * trace and debug lines are written only when the engine would show them
 * (TF_LOG_PROVIDER, else TF_LOG, names that level): the engine drops them
 * otherwise, and formatting and writing one per RPC is a measurable share
 * of a large plan.
 *
 * This module imports nothing heavy, so resources may use it freely.
 */

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** Extra key/value pairs logged next to the message. Keys starting with "@" are reserved. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `@module` = this module plus `.name`. */
  child(name: string): Logger;
}

/** Where log lines go; stderr unless a test swaps it. */
export type LogSink = (line: string) => void;

let sink: LogSink = (line) => {
  process.stderr.write(line);
};

/** Redirects every logger's output (tests); returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

/** One JSON log line (with trailing newline) as the engine expects it. */
export function formatLogLine(level: LogLevel, module: string, message: string, fields?: LogFields): string {
  const record: Record<string, unknown> = { "@level": level, "@message": message, "@module": module };
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (!key.startsWith("@")) record[key] = value instanceof Error ? value.message : value;
    }
  }
  return JSON.stringify(record) + "\n";
}

const SEVERITY: Readonly<Record<LogLevel, number>> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/**
 * The lowest level worth writing under the engine's environment: the level
 * TF_LOG_PROVIDER (else TF_LOG) names, where `JSON` and any unknown value
 * mean trace, as both engines read them. info, warn and error are always
 * written (they are rare).
 */
export function lowestLevelFor(env: NodeJS.ProcessEnv): LogLevel {
  const value = (env.TF_LOG_PROVIDER || env.TF_LOG || "").trim().toUpperCase();
  if (value === "DEBUG") return "debug";
  if (value === "" || value === "OFF" || value === "INFO" || value === "WARN" || value === "ERROR") return "info";
  return "trace";
}

let lowest: number = SEVERITY[lowestLevelFor(process.env)];

/** Sets the lowest level every logger writes (tests); returns the previous one. */
export function setLowestLevel(level: LogLevel): LogLevel {
  const previous = (Object.keys(SEVERITY) as LogLevel[]).find((name) => SEVERITY[name] === lowest) ?? "info";
  lowest = SEVERITY[level];
  return previous;
}

/** Creates a logger for `module` (e.g. "provider.postscale"). */
export function createLogger(module: string): Logger {
  const at = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (SEVERITY[level] >= lowest) sink(formatLogLine(level, module, message, fields));
  };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (name) => createLogger(`${module}.${name}`),
  };
}

/** The provider process's root logger. */
export const log: Logger = createLogger("provider");
