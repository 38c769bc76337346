"""The archive as bytes: a zip written as a stream in constant memory, and a zip read defensively.

Writing: `ArchiveWriter` feeds Python's `zipfile` an unseekable sink, so each entry is written with a
data descriptor and the bytes can leave as soon as they are compressed; each file's SHA-256 and size
are computed on the way and end up in the manifest, written last (with its signature beside it).

Reading: `open_archive` refuses what could hurt before anything is decompressed (names that climb out
of the archive or are absolute, too many entries, declared sizes or ratios of a zip bomb), and
`read_entry` counts the bytes it really inflates, so a lying header cannot smuggle a bomb in.

Nothing here knows the database, HTTP or what the files mean.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

MAX_ENTRIES = 20_000
MAX_RATIO = 200  # inflated / compressed, for entries large enough for the ratio to mean something
RATIO_FLOOR_BYTES = 1024 * 1024
NAME = re.compile(r"^(?:[a-z0-9_]{1,40}/)?[a-z0-9][a-z0-9_.-]{0,150}\.(?:json|jsonld|csv|html|jwt|jws)$")


class UnsafeArchive(Exception):
    """The bytes are not an archive this cooperative will open."""


class _Sink(io.RawIOBase):
    """Collects what zipfile writes until the stream takes it; refuses seeking, so zipfile streams."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
        self._buffer += data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    @property
    def pending(self) -> int:
        # Not __len__: zipfile tests its file object for truth, and an empty sink must stay truthy.
        return len(self._buffer)


@dataclass
class WrittenFile:
    path: str
    sha256: str
    bytes: int
    media_type: str


class _Entry:
    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self._hash.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


@dataclass
class ArchiveWriter:
    """`begin` an entry, `write` to it, `end` it; `drain` hands back the bytes compressed so far."""

    moment: datetime
    files: list[WrittenFile] = field(default_factory=list)
    chunk_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self._entry: _Entry | None = None
        self._path = ""
        self._media_type = ""

    def begin(self, path: str, media_type: str) -> None:
        assert self._entry is None, "one entry at a time"
        if not NAME.match(path):
            raise ValueError(f"not an archive name: {path}")
        info = zipfile.ZipInfo(path, date_time=self.moment.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        self._entry = _Entry(self._zip.open(info, mode="w"))
        self._path, self._media_type = path, media_type

    def write(self, data: bytes) -> None:
        assert self._entry is not None
        self._entry.write(data)

    def end(self) -> WrittenFile:
        assert self._entry is not None
        self._entry._handle.close()
        written = WrittenFile(self._path, self._entry.sha256, self._entry.size, self._media_type)
        self.files.append(written)
        self._entry = None
        return written

    def whole(self, path: str, media_type: str, data: bytes) -> WrittenFile:
        self.begin(path, media_type)
        self.write(data)
        return self.end()

    @property
    def ready(self) -> bool:
        return self._sink.pending >= self.chunk_bytes

    def drain(self) -> bytes:
        return self._sink.take()

    def close(self) -> bytes:
        self._zip.close()
        return self._sink.take()


# -- reading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    max_unpacked_bytes: int
    max_entry_bytes: int
    max_entries: int = MAX_ENTRIES
    max_ratio: int = MAX_RATIO


class OpenedArchive:
    def __init__(self, archive: zipfile.ZipFile, limits: Limits) -> None:
        self._zip = archive
        self._limits = limits
        self._inflated = 0
        self.names = [info.filename for info in archive.infolist()]

    def read(self, name: str) -> bytes:
        """The entry's bytes, inflating no more than the limits allow whatever its header claims."""
        try:
            info = self._zip.getinfo(name)
        except KeyError as error:
            raise UnsafeArchive(f"the archive has no {name}") from error
        budget = min(self._limits.max_entry_bytes, self._limits.max_unpacked_bytes - self._inflated)
        chunks: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as handle:
                while chunk := handle.read(64 * 1024):
                    size += len(chunk)
                    if size > budget:
                        raise UnsafeArchive(f"{name} inflates beyond the import limits (a zip bomb?)")
                    if size > RATIO_FLOOR_BYTES and size > self._limits.max_ratio * max(info.compress_size, 1):
                        raise UnsafeArchive(f"{name} inflates {size // max(info.compress_size, 1)}x (a zip bomb?)")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as error:
            raise UnsafeArchive(f"{name} cannot be read: {type(error).__name__}") from error
        self._inflated += size
        return b"".join(chunks)

    def close(self) -> None:
        self._zip.close()


def open_archive(data: IO[bytes], limits: Limits) -> OpenedArchive:
    try:
        archive = zipfile.ZipFile(data)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise UnsafeArchive("the upload is not a zip archive") from error
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeArchive(f"the archive has more than {limits.max_entries} entries")
    declared = 0
    seen: set[str] = set()
    for info in infos:
        _check_name(info.filename)
        if info.filename in seen:
            raise UnsafeArchive("the archive names one file twice")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise UnsafeArchive("encrypted entries are not accepted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeArchive("only stored and deflated entries are accepted")
        declared += info.file_size
        if info.file_size > limits.max_entry_bytes or declared > limits.max_unpacked_bytes:
            raise UnsafeArchive("the archive unpacks beyond the import limits (a zip bomb?)")
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeArchive(f"{info.filename[:100]} would inflate beyond a sane ratio (a zip bomb?)")
    return OpenedArchive(archive, limits)


def _check_name(name: str) -> None:
    if (
        not name
        or name.startswith(("/", "\\"))
        or "\\" in name
        or ":" in name
        or "\x00" in name
        or any(part in ("..", ".", "") for part in name.split("/"))
    ):
        raise UnsafeArchive(f"unsafe file name in the archive: {name[:100]!r}")
    if not NAME.match(name):
        raise UnsafeArchive(f"unexpected file name in the archive: {name[:100]!r}")
