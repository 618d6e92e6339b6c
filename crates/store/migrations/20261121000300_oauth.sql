-- OAuth 2.1 (issue 7): client registrations, pending authorizations, connections, leases.
-- Tokens themselves live in `credentials` (kind 'oauth', user_id '' when shared), so key
-- rotation re-encrypts them with every other secret.

-- An OAuth client the tenant registered with a provider. client_secret is a vault
-- ciphertext bound to the row ("oauth_app:<tenant>:<id>"), NULL for public clients.
CREATE TABLE oauth_apps (
    id                 TEXT PRIMARY KEY NOT NULL,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    provider           TEXT NOT NULL,
    issuer             TEXT,
    authorization_url  TEXT NOT NULL,
    token_url          TEXT NOT NULL,
    revocation_url     TEXT,
    client_id          TEXT NOT NULL,
    client_secret      TEXT,
    key_id             TEXT,
    scopes             TEXT NOT NULL,
    extra_params       TEXT NOT NULL,
    resource           TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

-- A started authorization. Only the SHA-256 of `state` is stored; the PKCE verifier is
-- encrypted. A row is deleted when the callback consumes it (single use).
CREATE TABLE oauth_states (
    state_hash     TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL,
    connector_id   TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    app_id         TEXT NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    owner_user_id  TEXT NOT NULL DEFAULT '',
    verifier       TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    resource       TEXT,
    expires_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- The non-secret side of a connected account: which app, its state, when it expires.
-- user_id '' is the connector's shared connection.
CREATE TABLE oauth_connections (
    tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connector_id      TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL DEFAULT '',
    app_id            TEXT NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    status            TEXT NOT NULL,
    status_reason     TEXT,
    scope             TEXT,
    resource          TEXT,
    expires_at        BIGINT,
    connected_at      BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (connector_id, user_id)
);

-- Cross-replica single flight: the holder of a live lease is the only one refreshing a
-- credential; others wait, then re-read the stored token.
CREATE TABLE oauth_leases (
    lease_key   TEXT PRIMARY KEY NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
