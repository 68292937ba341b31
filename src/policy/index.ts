/**
 * The Postscale access model as pure functions: data in, decision out.
 * The server enforces it, the provider checks it at plan time and the
 * constructs at synth time, so each rule is written once, here.
 */
export * from "./roles";
export * from "./names";
export * from "./key-material";
export * from "./decision";
export * from "./principal";
export * from "./actions";
export * from "./team";
export * from "./keys";
export * from "./undeclared";
export * from "./invariants";
export * from "./invariants-file";
