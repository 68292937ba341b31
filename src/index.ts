/**
 * @postscale/cdktf: Postscale team access as code. The root exports the
 * CDKTF constructs, the access policy (`policy`) and the error classes; the
 * server, API client and provider are reached through the CLI, so importing
 * the package stays light.
 */
export * from "./constructs";
export * as policy from "./policy";
export * from "./errors";
