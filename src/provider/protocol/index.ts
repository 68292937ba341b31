/**
 * The Terraform plugin protocol (tfplugin6 over go-plugin) for providers
 * written in TypeScript. Serves any ProviderDefinition; knows nothing of
 * what the provider manages. Importing this entry point stays cheap: gRPC,
 * protobuf and msgpack load only after the handshake.
 */
export * from "./types";
export { createLogger, formatLogLine, log, lowestLevelFor, setLogSink, setLowestLevel, type LogFields, type Logger, type LogLevel } from "./log";
export { handshakeLine, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, serve, type ServeOptions } from "./serve";
