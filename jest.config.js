/**
 * Three tiers, each test file in exactly one (`jest --selectProjects <tier>`):
 *
 * - unit: no server process, no engine, no build (ts-jest compiles src/).
 * - server: starts the API server as a child process (test/helpers/server.ts).
 * - e2e: `*.e2e.test.ts`, tests that need what `npm run build` and
 *   `npm run setup:engine` make (dist/, the provider bundle,
 *   .gen/tfplugin6.json, tools/bin engines) or the cdktf CLI.
 *
 * `npm test` runs all three.
 */
const SERVER = [
  "/test/(server|model)/.*\\.test\\.ts$",
  "/test/api/client\\.integration\\.test\\.ts$",
  "/test/provider/resources/(.*\\.resource|.*\\.ephemeral|provider)\\.test\\.ts$",
];
const E2E = ["\\.e2e\\.test\\.ts$"];

const tier = (displayName, testRegex, ignored = []) => ({
  displayName,
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/src"],
  testRegex,
  testPathIgnorePatterns: ["/node_modules/", ...ignored],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
});

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  projects: [tier("unit", "\\.test\\.ts$", [...SERVER, ...E2E]), tier("server", SERVER, E2E), tier("e2e", E2E)],
};
