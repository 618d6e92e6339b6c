-- Portable schema, run unchanged on SQLite and PostgreSQL: TEXT ids, BIGINT unix-ms timestamps,
-- BIGINT 0/1 booleans, JSON as TEXT. Should a backend ever need its own DDL, split this folder.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    platform_admin  BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    scopes        TEXT NOT NULL DEFAULT '[]',
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);

CREATE TABLE connector_types (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    version          TEXT NOT NULL,
    description      TEXT NOT NULL,
    category         TEXT,
    tags             TEXT NOT NULL DEFAULT '[]',
    tool_prefix      TEXT NOT NULL,
    execution_model  TEXT NOT NULL,
    scopes           TEXT NOT NULL DEFAULT '[]',
    requires_oauth   BIGINT NOT NULL DEFAULT 0,
    oauth_provider   TEXT,
    docs_url         TEXT,
    enabled          BIGINT NOT NULL DEFAULT 1,
    builtin          BIGINT NOT NULL DEFAULT 0,
    spec             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE connectors (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id  TEXT REFERENCES users(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    type_id        TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    tool_prefix    TEXT NOT NULL,
    config         TEXT NOT NULL DEFAULT '{}',
    visibility     TEXT NOT NULL CHECK (visibility IN ('tenant', 'personal')),
    enabled        BIGINT NOT NULL DEFAULT 1,
    status         TEXT NOT NULL DEFAULT 'unknown',
    status_reason  TEXT,
    status_at      BIGINT,
    mock_scenario  TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT connectors_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT connectors_tenant_prefix_key UNIQUE (tenant_id, tool_prefix)
);
CREATE INDEX connectors_type_idx ON connectors (type_id);

-- user_id is '' (not NULL) for shared credentials so the unique constraint holds on
-- both backends (NULLs never collide in a UNIQUE index).
CREATE TABLE credentials (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connector_id  TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,
    ciphertext    TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (connector_id, user_id, kind)
);

CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL,
    actor_user_id  TEXT,
    actor_key_id   TEXT,
    action         TEXT NOT NULL,
    target_kind    TEXT NOT NULL,
    target_id      TEXT,
    connector_id   TEXT,
    command        TEXT,
    outcome        TEXT NOT NULL,
    error_code     TEXT,
    duration_ms    BIGINT,
    detail         TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant_created_idx ON audit_log (tenant_id, created_at);

CREATE TABLE idempotency (
    tenant_id     TEXT NOT NULL,
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    response      TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, scope, key)
);
CREATE INDEX idempotency_expires_idx ON idempotency (expires_at);
