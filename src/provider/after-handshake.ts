/**
 * Entry point of the provider bundle's second file,
 * postscale-provider-server.js: everything the provider process needs only
 * after the handshake line (the RPC server, the generated codecs, the provider
 * service, the resources and the HTTP client). scripts/build-provider.mjs points the two
 * lazy requires of the first file, `./rpc-server` in protocol/serve.ts and
 * `./provider` in main.ts, at this file, so V8 compiles none of it before
 * the engine has its handshake line.
 */
export { createRpcServer } from "./protocol/rpc-server";
export { postscaleProvider } from "./provider";
