#!/usr/bin/env node
/**
 * Produces the real-engine plan fixtures of the access review tests
 * (test/review/fixtures/engine/*.json): the Postscale server in-process,
 * the bundled provider installed in a temporary local mirror, and the real
 * OpenTofu binary planning a sequence of configurations against it. Each
 * step may first change the organization through the API (as someone in
 * the dashboard would), then writes main.tf, runs `tofu plan -out=tfplan`
 * (with the step's extra arguments, e.g. `-replace`), saves
 * `tofu show -json tfplan` as the step's fixture, then applies the plan so
 * the next step starts from that state.
 *
 * Needs `npm run build` (the provider bundle; built here when missing) and
 * `npm run setup:engine` (tools/bin/tofu). Never reaches the internet: the
 * CLI config installs the provider from the mirror only.
 *
 * Run: `node scripts/make-review-fixtures.mjs [fixture ...]`: every step
 * runs, and only the fixtures named are written (all when none is).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadParts } from "./lib/load-parts.mjs";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(repoRoot, "test", "review", "fixtures", "engine");
const PROVIDER_VERSION = "0.1.0";
const DOMAINS = ["app.example.com", "news.example.com", "shop.example.com"];

const HEADER = `terraform {
  required_providers {
    postscale = {
      source  = "postscale/postscale"
      version = "${PROVIDER_VERSION}"
    }
  }
}

provider "postscale" {}
`;

const member = (name, email, role) => `
resource "postscale_team_member" "${name}" {
  email = "${email}"
  role  = "${role}"
}
`;
const grant = (name, holder, domain, access) => `
resource "postscale_domain_access" "${name}" {
  member_id = postscale_team_member.${holder}.id
  domain    = "${domain}"
  access    = "${access}"
}
`;
const memberKey = (name, keyName, holder, domains) => `
resource "postscale_api_key" "${name}" {
  name      = "${keyName}"
  owner     = "member"
  member_id = postscale_team_member.${holder}.id
  domains   = ${JSON.stringify(domains)}
}
`;
const orgKey = (name, keyName, domains, expiresAt, createBeforeDestroy) => `
resource "postscale_api_key" "${name}" {
  name  = "${keyName}"
  owner = "organization"${domains ? `\n  domains = ${JSON.stringify(domains)}` : ""}${expiresAt ? `\n  expires_at = "${expiresAt}"` : ""}${
    createBeforeDestroy ? "\n\n  lifecycle {\n    create_before_destroy = true\n  }" : ""
  }
}
`;
/** A member key without `domains`: the server scopes it to the holder's read_write domains when it creates it. */
const autoScopedKey = (name, keyName, holder) => `
resource "postscale_api_key" "${name}" {
  name      = "${keyName}"
  owner     = "member"
  member_id = postscale_team_member.${holder}.id
}
`;
const importBlock = (address, id) => `
import {
  to = ${address}
  id = "${id}"
}
`;

/**
 * The team as the configuration of each step. `state` holds the parts that
 * later steps change, so every step reads as "the previous team, except ...".
 */
function team(s) {
  const parts = [HEADER, member("alice", "alice@example.com", "admin"), member("bob", "bob@example.com", "member")];
  parts.push(grant("bob_app", "bob", "app.example.com", "read_write"), grant("bob_news", "bob", "news.example.com", "read"));
  parts.push(memberKey("bob_ci", "bob-ci", "bob", ["app.example.com"]));
  if (!s.initialOnly) {
    if (s.carol) {
      parts.push(member("carol", "carol@example.com", "member"));
      parts.push(grant("carol_app", "carol", "app.example.com", "read_write"), grant("carol_news", "carol", "news.example.com", "read"));
      parts.push(memberKey("carol_laptop", "carol-laptop", "carol", ["app.example.com"]));
    }
    parts.push(member("dave", "dave@example.com", s.daveRole), member("frank", "frank@example.com", s.frankRole));
    if (s.frankShop) parts.push(grant("frank_shop", "frank", "shop.example.com", "read"));
    parts.push(member("erin", "erin@example.com", "member"));
    parts.push(grant("erin_app", "erin", "app.example.com", s.erinApp), grant("erin_news", "erin", "news.example.com", s.erinNews));
    if (s.erinShop) parts.push(grant("erin_shop", "erin", "shop.example.com", "read"));
    parts.push(member("gina", "gina@example.com", "member"));
    parts.push(grant("gina_app", "gina", "app.example.com", "read_write"), grant("gina_news", "gina", "news.example.com", "read_write"));
    parts.push(memberKey("gina_ci", "gina-ci", "gina", s.ginaDomains));
    parts.push(orgKey("deploy", "deploy", null, null, s.deployCreateBeforeDestroy), orgKey("reports", "reports", s.reportsDomains, null));
    if (s.oldScript) parts.push(orgKey("old_script", "old-script", ["shop.example.com"], null));
    if (s.backup) parts.push(orgKey("backup", "backup", null, "2030-01-01T00:00:00Z"));
    parts.push(member("hal", s.halEmail, "member"), grant("hal_app", "hal", "app.example.com", "read_write"));
    if (s.ivan) {
      parts.push(member("ivan", "ivan@example.com", "member"), grant("ivan_shop", "ivan", "shop.example.com", "read"));
      if (s.ivanImport) parts.push(importBlock("postscale_team_member.ivan", "ivan@example.com"), importBlock("postscale_domain_access.ivan_shop", "ivan@example.com/shop.example.com"));
    }
    if (s.contractor) {
      // Plain HCL, no constructs: a contractor gets read_write, which the access rules forbid.
      parts.push(member("lee", "lee@contractors.example.com", "member"), grant("lee_app", "lee", "app.example.com", "read_write"));
    }
    if (s.newPeople) {
      // A typo of an existing person's email, an address outside the usual domains, and an auto-scoped key.
      parts.push(member("erin_typo", "erin@exmaple.com", "member"));
      parts.push(member("kim", "kim@gmail.com", "member"), grant("kim_shop", "kim", "shop.example.com", "read_write"), autoScopedKey("kim_ci", "kim-ci", "kim"));
    }
  }
  return parts.join("");
}

const initial = {
  carol: true, daveRole: "member", frankRole: "admin", frankShop: false, erinApp: "read", erinNews: "read_write", erinShop: true,
  ginaDomains: ["app.example.com"], reportsDomains: ["app.example.com", "news.example.com"], oldScript: true, backup: false, halEmail: "hal@old.example.com",
};

const later = {
  ...initial, carol: false, daveRole: "admin", frankRole: "member", frankShop: true, erinApp: "read_write", erinNews: "read", erinShop: false,
  ginaDomains: ["app.example.com", "news.example.com"], reportsDomains: ["news.example.com"], oldScript: false, backup: true, halEmail: "hal@new.example.com",
};

/** Finds a member's id by email through the API. */
async function memberId(client, email) {
  const found = (await client.listMembers()).find((m) => m.email === email);
  if (!found) throw new Error(`no member ${email}`);
  return found.id;
}

/**
 * Each step: a fixture name (or null for set-up only), the team it plans
 * towards, and optionally what happens through the API first (`outOfBand`)
 * and extra plan arguments (`planArgs`).
 */
const STEPS = [
  ["members-added", { ...initial, initialOnly: true }],
  [null, initial],
  ["no-change", initial],
  ["offboarding", { ...initial, carol: false }],
  ["roles-and-grants", { ...initial, carol: false, daveRole: "admin", frankRole: "member", frankShop: true, erinApp: "read_write", erinNews: "read", erinShop: false }],
  ["keys", { ...initial, carol: false, daveRole: "admin", frankRole: "member", frankShop: true, erinApp: "read_write", erinNews: "read", erinShop: false,
    ginaDomains: ["app.example.com", "news.example.com"], reportsDomains: ["news.example.com"], oldScript: false, backup: true }],
  ["replace-email", { ...initial, carol: false, daveRole: "admin", frankRole: "member", frankShop: true, erinApp: "read_write", erinNews: "read", erinShop: false,
    ginaDomains: ["app.example.com", "news.example.com"], reportsDomains: ["news.example.com"], oldScript: false, backup: true, halEmail: "hal@new.example.com" }],
  // Someone widens erin's news grant and removes gina's news grant in the dashboard: the plan's resource_drift, and the plan puts both back.
  ["drift", later, {
    outOfBand: async (client) => {
      await client.setDomainAccess(await memberId(client, "erin@example.com"), "news.example.com", "read_write");
      await client.removeDomainAccess(await memberId(client, "gina@example.com"), "app.example.com");
    },
  }],
  // ivan was invited in the dashboard with a grant: the code takes them over with import blocks.
  ["import", { ...later, ivan: true, ivanImport: true }, {
    outOfBand: async (client) => {
      const ivan = await client.inviteMember({ email: "ivan@example.com", role: "member" });
      await client.setDomainAccess(ivan.id, "shop.example.com", "read");
    },
  }],
  [null, { ...later, ivan: true, deployCreateBeforeDestroy: true }],
  // Two rotations: bob-ci replaced by request (the old key goes first), deploy with create_before_destroy (the new key first).
  ["rotation", { ...later, ivan: true, deployCreateBeforeDestroy: true }, { planArgs: ["-replace=postscale_api_key.bob_ci", "-replace=postscale_api_key.deploy"] }],
  ["new-people", { ...later, ivan: true, deployCreateBeforeDestroy: true, newPeople: true }],
  ["contractor", { ...later, ivan: true, deployCreateBeforeDestroy: true, newPeople: true, contractor: true }],
];

/** The fixtures to write: those named on the command line, or all. */
const ONLY = process.argv.slice(2);

/** Runs the engine without blocking: the server answering it lives in this process. */
function run(binary, args, cwd, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args, "-no-color"], { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${binary} ${args.join(" ")} exited ${code}\n${stdout}\n${stderr}`));
    });
  });
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "postscale-review-fixtures-"));
  let server;
  let client;
  try {
    const parts = await loadParts("review-fixtures");
    if (!existsSync(parts.builtBundlePath())) {
      process.stdout.write("building the provider bundle...\n");
      execFileSync(process.execPath, [join(repoRoot, "scripts", "build-provider.mjs")], { stdio: "inherit" });
    }
    const engine = parts.requireEngine("tofu");
    const mirror = join(work, "mirror");
    parts.installProvider({ dir: mirror, version: PROVIDER_VERSION, bundle: parts.builtBundlePath() });
    const cliConfigFile = join(work, "cli.tfrc");
    parts.writeCliConfig(cliConfigFile, mirror);
    const keyFile = join(work, "owner.key");
    server = await parts.startServer({
      port: 0,
      dataDir: join(work, "data"),
      dev: true,
      bootstrap: { organization: "Example", ownerEmail: "owner@example.com", ownerPassword: "correct horse battery staple", domains: DOMAINS, keyFile },
    });
    const apiKey = server.bootstrapKey ?? readFileSync(keyFile, "utf8").trim();
    const env = parts.engineEnv({ cliConfigFile, endpoint: server.url, apiKey });
    client = new parts.PostscaleClient({ endpoint: server.url, apiKey });
    const ws = join(work, "ws");
    mkdirSync(ws);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(ws, "main.tf"), team(STEPS[0][1]));
    await run(engine.binary, ["init", "-input=false"], ws, env);
    for (const [fixture, state, { outOfBand, planArgs = [] } = {}] of STEPS) {
      if (outOfBand) await outOfBand(client);
      writeFileSync(join(ws, "main.tf"), team(state));
      await run(engine.binary, ["plan", "-input=false", "-out=tfplan", ...planArgs], ws, env);
      if (fixture && (ONLY.length === 0 || ONLY.includes(fixture))) {
        const json = JSON.parse(await run(engine.binary, ["show", "-json", "tfplan"], ws, env));
        writeFileSync(join(OUT_DIR, `${fixture}.json`), `${JSON.stringify(json, null, 2)}\n`);
        process.stdout.write(`wrote test/review/fixtures/engine/${fixture}.json (${(json.resource_changes ?? []).length} resource changes)\n`);
      }
      await run(engine.binary, ["apply", "-input=false", "tfplan"], ws, env);
    }
  } finally {
    await client?.close();
    if (server) await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`make-review-fixtures: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
