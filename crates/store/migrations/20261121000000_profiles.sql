-- Profiles: named MCP endpoints (/mcp/<name>) exposing a chosen subset of tools.
CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    connectors TEXT NOT NULL,
    tools TEXT NOT NULL,
    naming TEXT NOT NULL,
    anonymous BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX profiles_anonymous_name ON profiles (name, anonymous);
