/** The Postscale API client and its wire types. */
export { DEFAULT_PAGE_LIMIT, PostscaleClient, type ClientOptions, type RequestOptions } from "./client";
export type { QueryParams, RequestInfo } from "./http-transport";
export type { HttpMethod } from "./retry-policy";
export * from "./types";
