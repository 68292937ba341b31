/**
 * Team access with its state in PostgreSQL, where a team keeps it: the
 * engine's `pg` backend stores the state in a table and locks it with an
 * advisory lock, so two applies never interleave.
 *
 * The connection string comes from PG_CONN_STR when the engine starts
 * (`export PG_CONN_STR=postgres://user:password@host/db`), so no password is
 * written into cdktf.out. Set POSTSCALE_ENDPOINT and POSTSCALE_API_KEY too.
 */
import { App, PgBackend, TerraformStack } from "cdktf";
import { Domain, PostscaleProvider, Team } from "@postscale/cdktf";

const app = new App();
const stack = new TerraformStack(app, "access");

const state = new PgBackend(stack, { connStr: "", schemaName: process.env.STATE_SCHEMA ?? "postscale_access" });
// Leave conn_str out of the configuration: the engine then reads PG_CONN_STR.
state.addOverride("conn_str", undefined);

new PostscaleProvider(stack, "postscale");
const web = Domain.fromName(stack, "app", "app.example.com");

const team = new Team(stack, "team");
team.addAdmin("ops@example.com");
web.grantReadWrite(team.addMember("dev@example.com"));

app.synth();
