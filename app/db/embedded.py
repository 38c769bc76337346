"""The embedded PostgreSQL used when no DATABASE_URL is configured.

Everything that knows about `pgserver` lives here, so the embedded server can be swapped
for another one without touching the rest of the application.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

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
        import pgserver  # heavy import, only needed on the embedded path

        self.pgdata.mkdir(parents=True, exist_ok=True)
        # cleanup_mode="stop": stop the server when the last process using it exits, keep the data.
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()  # type: ignore[attr-defined]
        log.info("embedded PostgreSQL ready in %s", self.pgdata)
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
