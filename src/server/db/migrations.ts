import { Database } from "./adapter";

/**
 * The schema, as ordered migrations. One set for PGlite and PostgreSQL:
 * plain SQL both understand. Kept as strings so the compiled package needs
 * no asset copying. Never edit an applied migration; add the next one.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "team accounts",
    sql: `
CREATE TABLE organizations (
  id text PRIMARY KEY,
  name text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  plan text NOT NULL DEFAULT 'free',
  billing_email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE members (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  name text,
  password_hash text,
  invited_by text,
  invited_at timestamptz NOT NULL DEFAULT now(),
  invitation_expires_at timestamptz,
  accepted_at timestamptz,
  joined_at timestamptz,
  UNIQUE (org_id, email)
);
-- Exactly one owner per organization, enforced by the database too.
CREATE UNIQUE INDEX members_one_owner ON members (org_id) WHERE role = 'owner';
CREATE INDEX members_email ON members (email);

CREATE TABLE domains (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified')),
  verified_at timestamptz,
  open_tracking boolean NOT NULL DEFAULT true,
  click_tracking boolean NOT NULL DEFAULT false,
  tls_policy text NOT NULL DEFAULT 'opportunistic',
  dkim_selector text NOT NULL,
  dkim_public_key text NOT NULL,
  dkim_created_at timestamptz NOT NULL DEFAULT now(),
  warming_status text NOT NULL DEFAULT 'not_started',
  warming_day integer NOT NULL DEFAULT 0,
  warming_started_at timestamptz,
  warming_updated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name)
);

CREATE TABLE grants (
  member_id text NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  domain_id text NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  access text NOT NULL CHECK (access IN ('read', 'read_write')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (member_id, domain_id)
);
CREATE INDEX grants_domain ON grants (domain_id);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  owner text NOT NULL CHECK (owner IN ('organization', 'member')),
  -- Member-owned keys go with their member: offboarding deletes them.
  member_id text REFERENCES members(id) ON DELETE CASCADE,
  scope text NOT NULL CHECK (scope IN ('organization', 'domains')),
  domains text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  member_id text NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

CREATE TABLE tokens (
  token_hash text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('invitation', 'verify_email')),
  member_id text NOT NULL REFERENCES members(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX tokens_member ON tokens (member_id);

CREATE TABLE aliases (
  id text PRIMARY KEY,
  domain_id text NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  address text NOT NULL,
  forward_to text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain_id, address)
);

CREATE TABLE inbound_rules (
  id text PRIMARY KEY,
  domain_id text NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  match text NOT NULL,
  action text NOT NULL CHECK (action IN ('forward', 'webhook', 'drop')),
  destination text,
  priority integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_rules_domain ON inbound_rules (domain_id, priority);

CREATE TABLE audit_events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  org_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  actor_member_id text,
  actor text,
  credential text NOT NULL,
  action text NOT NULL,
  target text,
  before jsonb,
  after jsonb,
  time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_org ON audit_events (org_id, seq DESC);

CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  org_id text REFERENCES organizations(id) ON DELETE CASCADE,
  request_hash text NOT NULL,
  status integer,
  content_type text,
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
`,
  },
  {
    version: 2,
    name: "keys and people",
    sql: `
-- Who made each key; kept when that person leaves (a pipeline's keys outlive its operator).
ALTER TABLE api_keys ADD COLUMN created_by text;
UPDATE api_keys SET created_by = member_id WHERE owner = 'member';

-- Key names are unique per holder, and per organization among organization keys,
-- so a create repeated after a lost reply is a conflict, never a second key.
UPDATE api_keys k SET name = left(k.name, 60) || ' (' || k.id || ')'
  WHERE EXISTS (SELECT 1 FROM api_keys o WHERE o.org_id = k.org_id AND o.name = k.name AND o.owner = k.owner
    AND o.member_id IS NOT DISTINCT FROM k.member_id AND o.id < k.id);
CREATE UNIQUE INDEX api_keys_name_per_holder ON api_keys (org_id, member_id, name) WHERE owner = 'member';
CREATE UNIQUE INDEX api_keys_name_per_organization ON api_keys (org_id, name) WHERE owner = 'organization';
CREATE INDEX api_keys_created_by ON api_keys (org_id, created_by);

-- Audit: the credential's holder beside the acting person.
ALTER TABLE audit_events ADD COLUMN key_holder text;

-- Idempotency records hold no readable response: the lookup key and the
-- request fingerprint are keyed hashes and the body is sealed with a key
-- derived from the client's Idempotency-Key. They expire.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_records (
  lookup text PRIMARY KEY,
  org_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  fingerprint text NOT NULL,
  status integer NOT NULL,
  sealed_body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX idempotency_records_expiry ON idempotency_records (expires_at);
`,
  },
  {
    version: 3,
    name: "shared rate limits",
    sql: `
-- Fixed-window request counts shared by every server on the database.
CREATE TABLE rate_limit_windows (
  bucket text NOT NULL,
  window_index bigint NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (bucket, window_index)
);
`,
  },
  {
    version: 4,
    name: "key rotation",
    sql: `
-- A rotation keeps the secret it replaces working for an overlap: its hash
-- and until when. One previous secret at most; a second rotation drops it.
ALTER TABLE api_keys ADD COLUMN previous_secret_hash text;
ALTER TABLE api_keys ADD COLUMN previous_secret_expires_at timestamptz;
-- When the current secret was set; the creation time until the first rotation.
ALTER TABLE api_keys ADD COLUMN secret_rotated_at timestamptz;
-- Whether the client brought the secret (only its hash was ever here).
ALTER TABLE api_keys ADD COLUMN secret_supplied boolean NOT NULL DEFAULT false;
UPDATE api_keys SET secret_rotated_at = created_at;
ALTER TABLE api_keys ALTER COLUMN secret_rotated_at SET DEFAULT now();
ALTER TABLE api_keys ALTER COLUMN secret_rotated_at SET NOT NULL;
CREATE UNIQUE INDEX api_keys_previous_secret ON api_keys (previous_secret_hash) WHERE previous_secret_hash IS NOT NULL;
`,
  },
];

/**
 * Brings the schema up to date, in one transaction. On PostgreSQL an
 * advisory lock keeps two servers starting at once from racing.
 */
export async function migrate(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    if (db.engine === "postgres") await tx.query("SELECT pg_advisory_xact_lock(427201)");
    await tx.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    const rows = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((r) => Number(r.version)));
    let count = 0;
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      count++;
    }
    return count;
  });
}
