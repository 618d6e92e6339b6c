"""pytest fixtures for the Switchboard end-to-end client tests.

By default a hub is started once per session from target/debug/switchboard (see hub.py) with a
`people` directory connector. To test a hub that is already running instead, set
SWITCHBOARD_E2E_URL (base URL, e.g. http://127.0.0.1:8080) and SWITCHBOARD_E2E_KEY (an API key
whose tenant has a `directory` connector).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub import Hub, HubError  # noqa: E402

E2E_DIR = Path(__file__).resolve().parent


@dataclass
class HubInfo:
    base_url: str
    admin_key: str
    hub: Hub | None = None

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def hub():
    url, key = os.environ.get("SWITCHBOARD_E2E_URL"), os.environ.get("SWITCHBOARD_E2E_KEY")
    if url and key:
        yield HubInfo(url.rstrip("/"), key)
        return
    h = Hub()
    try:
        h.start()
    except HubError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        try:
            h.create_connector("people", "directory")
        except HubError as e:
            pytest.fail(f"{e}\n{h.log_tail()}", pytrace=False)
        yield HubInfo(h.base_url, h.admin_key, h)
    finally:
        h.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the hub's recent log lines to the report (helps the reader a lot)."""
    if call.when == "call" and call.excinfo is not None:
        info = item.funcargs.get("hub") if hasattr(item, "funcargs") else None
        if isinstance(info, HubInfo) and info.hub is not None:
            item.add_report_section("call", "hub log (tail)", info.hub.log_tail(25))
