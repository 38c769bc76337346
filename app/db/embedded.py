"""The embedded PostgreSQL used when no DATABASE_URL is configured.

Everything that knows about `pgserver` lives here, so the embedded server can be swapped
for another one without touching the rest of the application.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pgserver
import psutil
from pgserver.utils import DiskList

log = logging.getLogger(__name__)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server in a data directory of ours, reused across runs."""

    data_dir: Path
    _server: object | None = None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def start(self) -> str:
        """Start (or join) the server and return an asyncpg SQLAlchemy URL to its `postgres` database."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._forget_dead_users()
        # cleanup_mode="stop": stop the server when the last process using it exits, keep the data.
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()  # type: ignore[attr-defined]
        log.info("embedded PostgreSQL ready in %s", self.pgdata)
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def _forget_dead_users(self) -> None:
        """pgserver counts the processes using the server in a file; a process killed without
        cleaning up stays listed and would keep the server running forever. Drop the dead ones."""
        users = DiskList(self.pgdata / ".handle_pids.json")
        for pid in users.get():
            if not psutil.pid_exists(pid):
                users.get_and_remove(pid)

    def stop(self) -> None:
        if self._server is not None:
            self._forget_dead_users()
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
