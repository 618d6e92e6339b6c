"""Start and stop a Switchboard hub for end-to-end tests.

Builds nothing: it runs an existing binary (``$SWITCHBOARD_BIN``, else
``$CARGO_TARGET_DIR/debug/switchboard``, else ``<repo>/target/debug/switchboard``).

As a library (see conftest.py)::

    hub = Hub().start()               # temp data dir, 127.0.0.1, free port
    hub.base_url, hub.admin_key       # "http://127.0.0.1:PORT", "sk_..."
    hub.create_connector("people", "directory")
    hub.stop()                        # SIGTERM, then SIGKILL after a grace period

As a command, to run something against a hub and always stop it afterwards::

    python hub.py run [--conformance-profile] [--directory] -- CMD ARGS...

``{base}`` and ``{key}`` in CMD ARGS are replaced by the base URL and the admin key, which are also
exported as SWITCHBOARD_E2E_URL and SWITCHBOARD_E2E_KEY. The exit code is CMD's.

Only the standard library is used, so the shell script can call it before any venv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LISTEN_RE = re.compile(r"listening on (http://\S+)")


def default_binary() -> Path:
    if os.environ.get("SWITCHBOARD_BIN"):
        return Path(os.environ["SWITCHBOARD_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "debug" / "switchboard"


class HubError(RuntimeError):
    pass


class Hub:
    """One `switchboard serve` process on 127.0.0.1 with its own temporary data directory."""

    def __init__(
        self,
        binary: Path | str | None = None,
        *,
        data_dir: Path | str | None = None,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.binary = Path(binary) if binary else default_binary()
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="switchboard-e2e-"))
        self.extra_args = list(extra_args or [])
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.base_url: str = ""
        self.admin_key: str = ""
        self.log_path = self.data_dir / "hub.log"
        self._stdout_lines: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Hub":
        if not self.binary.is_file():
            raise HubError(
                f"switchboard binary not found at {self.binary}; build it first with "
                "`cargo build -p switchboard` (or set SWITCHBOARD_BIN)"
            )
        cmd = [
            str(self.binary),
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--listen",
            "127.0.0.1:0",
            *self.extra_args,
        ]
        env = {**os.environ, **self.env}
        env.setdefault("RUST_LOG", "info")
        env.setdefault("NO_COLOR", "1")
        self._log = open(self.log_path, "w", encoding="utf-8")
        self._log.write("$ " + " ".join(cmd) + "\n")
        self._log.flush()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            start_new_session=True,  # SIGINT to the test runner does not hit the hub first
        )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        if not self._ready.wait(self.startup_timeout) or not self.base_url:
            tail = self.log_tail()
            self.stop()
            raise HubError(f"hub did not print its listening line within {self.startup_timeout}s\n{tail}")
        if not self.admin_key:
            key_file = self.data_dir / "admin.key"
            if key_file.is_file():
                self.admin_key = key_file.read_text().strip()
        if not self.admin_key:
            tail = self.log_tail()
            self.stop()
            raise HubError(f"hub printed no admin key and wrote no {self.data_dir}/admin.key\n{tail}")
        return self

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        expect_key = False
        for line in self.proc.stdout:
            self._stdout_lines.append(line)
            self._log.write(line)
            self._log.flush()
            text = line.strip()
            if expect_key and text:
                self.admin_key = text
                expect_key = False
                continue
            if text.startswith("Admin API key"):
                expect_key = True
            m = LISTEN_RE.search(text)
            if m and not self.base_url:
                self.base_url = m.group(1).rstrip("/")
                self._ready.set()
        self._ready.set()  # process exited: unblock start()

    def stop(self, grace: float = 10.0) -> int | None:
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(grace)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            rc = self.proc.returncode
            if self._reader is not None:
                self._reader.join(2)
            self.proc = None
        if getattr(self, "_log", None) is not None and not self._log.closed:
            self._log.close()
        if self._own_data_dir and not os.environ.get("SWITCHBOARD_E2E_KEEP"):
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return rc

    def __enter__(self) -> "Hub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "".join(self.log_path.read_text(errors="replace").splitlines(True)[-lines:])
        except OSError:
            return "".join(self._stdout_lines[-lines:])

    # ------------------------------------------------------------------ REST helpers
    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def api(self, method: str, path: str, body: object | None = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.admin_key}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as e:
            raw = e.read()
            status = e.code
        try:
            parsed: object = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, parsed

    def create_connector(self, name: str = "people", type_: str = "directory", **extra: object) -> object:
        status, body = self.api("POST", "/api/connectors", {"name": name, "type": type_, **extra})
        if status not in (200, 201):
            raise HubError(f"POST /api/connectors {name}/{type_} -> {status}: {body}")
        return body


# ---------------------------------------------------------------------- command line
def _main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="start a hub, run a command against it, stop the hub")
    run.add_argument("--conformance-profile", action="store_true", help="serve /mcp/conformance (sets SWITCHBOARD_TEST_CONNECTORS=1)")
    run.add_argument("--directory", action="store_true", help="create the `people` directory connector")
    run.add_argument("--binary", default=None)
    run.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        p.error("run needs a command after --")
    extra, env = [], {}
    if args.conformance_profile:
        extra.append("--conformance-profile")
        env["SWITCHBOARD_TEST_CONNECTORS"] = "1"
    hub = Hub(args.binary, extra_args=extra, env=env)
    # Stop the hub on SIGTERM/SIGINT too (the shell trap forwards them here).
    def _on_signal(signum: int, _frame: object) -> None:
        hub.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        hub.start()
    except HubError as e:
        print(f"hub.py: {e}", file=sys.stderr)
        return 2
    try:
        print(f"hub.py: hub at {hub.base_url} (data dir {hub.data_dir}, log {hub.log_path})", file=sys.stderr)
        if args.directory:
            hub.create_connector("people", "directory")
        cmd = [c.replace("{base}", hub.base_url).replace("{key}", hub.admin_key) for c in command]
        child_env = {**os.environ, "SWITCHBOARD_E2E_URL": hub.base_url, "SWITCHBOARD_E2E_KEY": hub.admin_key}
        rc = subprocess.call(cmd, env=child_env)
        if rc != 0:
            print(f"hub.py: command exited {rc}; last hub log lines:\n{hub.log_tail(20)}", file=sys.stderr)
        return rc
    finally:
        hub_rc = hub.stop()
        if hub_rc not in (0, None, -signal.SIGTERM):
            print(f"hub.py: note: hub exited with status {hub_rc} after SIGTERM", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
