"""Real `coop serve` processes on loopback ports, for what only separate processes can prove."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from tests.conftest import free_port


@contextmanager
def coop_server(database_url: URL, data_dir: Path, signing_key_pem: str, **env: str) -> Iterator[str]:
    with coop_process(database_url, data_dir, signing_key_pem, **env) as (base, _process):
        yield base


@contextmanager
def coop_process(
    database_url: URL, data_dir: Path, signing_key_pem: str, **env: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """A `coop serve` process and its URL; stopped (SIGTERM, then SIGKILL after 10 s) on exit."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "COOP_DATA_DIR": str(data_dir),
        "COOP_JWT_PRIVATE_KEYS": signing_key_pem,
        "COOP_LOG_LEVEL": "WARNING",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-migrate"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"coop serve did not start: {process.stderr.read().decode() if process.stderr else ''}"
                )
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
