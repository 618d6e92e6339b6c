#!/usr/bin/env bash
# The command the conformance suite's client scenarios run: `switchboard mcp-client`
# against the URL the suite appends, calling the scenario server's `test-tool`.
# Pre-registered credentials the suite hands over in MCP_CONFORMANCE_CONTEXT become
# --client-id/--client-secret; the client ID metadata URL is the one the suite expects.
#
#   SWITCHBOARD_BIN=target/debug/switchboard tests/e2e/conformance-client.sh URL
set -euo pipefail
BIN="${SWITCHBOARD_BIN:?set SWITCHBOARD_BIN to the switchboard binary}"
URL="${!#}"
extra=()
if [ -n "${MCP_CONFORMANCE_CONTEXT:-}" ]; then
  id="$(python3 -c 'import json,os; print(json.loads(os.environ["MCP_CONFORMANCE_CONTEXT"]).get("client_id",""))')"
  secret="$(python3 -c 'import json,os; print(json.loads(os.environ["MCP_CONFORMANCE_CONTEXT"]).get("client_secret",""))')"
  [ -n "$id" ] && extra+=(--client-id "$id")
  [ -n "$secret" ] && export SWITCHBOARD_MCP_CLIENT_SECRET="$secret"
fi
exec "$BIN" mcp-client --auto-authorize \
  --client-metadata-url https://conformance-test.local/client-metadata.json \
  --call test-tool "${extra[@]}" "$URL"
