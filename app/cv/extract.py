"""Reading a CV's text out of an untrusted file: the type sniffed from the content, every limit checked.

Owns: recognising PDF, DOCX, ODT and UTF-8 text by their bytes (never by the file name or the
declared content type), refusing macros, zip bombs, PDF bombs and XML entity tricks before reading,
and returning plain text. Never executes anything from the file, never writes it anywhere, never
touches the database: the caller discards the bytes once this returns.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass

from app.models import CvFileKind

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc and friends
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = b"application/vnd.ms-word.document.macroenabled.main+xml"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


@dataclass(frozen=True)
class Limits:
    """What one CV may cost us to read; beyond any of these, the file is refused, not truncated."""

    max_entries: int = 500  # files inside a DOCX or ODT
    max_unpacked_bytes: int = 30 * 1024 * 1024  # the archive's entries, all together, once inflated
    max_ratio: int = 100  # inflated size / compressed size of any one entry
    max_pages: int = 30
    max_seconds: float = 5.0
    max_characters: int = 200_000
    max_pdf_stream_bytes: int = 10 * 1024 * 1024  # one decompressed PDF stream


class CvRefused(Exception):
    """The file is not a CV we can read safely; `reason` picks the problem type."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # unsupported, malformed, macros, bomb, no-text
        self.detail = detail


@dataclass(frozen=True)
class Extracted:
    kind: CvFileKind
    text: str
    pages: int | None = None


def sniff(content: bytes) -> CvFileKind:
    """The file's kind from its bytes alone; DOCX and ODT need their archive checked (see `_archive_kind`)."""
    if content.startswith(PDF_MAGIC):
        return CvFileKind.PDF
    if content.startswith(ZIP_MAGIC):
        return _archive_kind(_open_zip(content))
    if content.startswith(OLE_MAGIC):
        raise CvRefused("unsupported", "Legacy Word (.doc) files are not read: save the CV as DOCX, ODT or PDF.")
    _decode_text(content)
    return CvFileKind.TEXT


def extract(content: bytes, limits: Limits | None = None) -> Extracted:
    limits = limits or Limits()
    kind = sniff(content)
    deadline = time.monotonic() + limits.max_seconds
    if kind == CvFileKind.PDF:
        text, pages = _pdf_text(content, limits, deadline)
        result = Extracted(kind, text, pages)
    elif kind == CvFileKind.DOCX:
        result = Extracted(kind, _docx_text(_safe_archive(content, limits), limits))
    elif kind == CvFileKind.ODT:
        result = Extracted(kind, _odt_text(_safe_archive(content, limits), limits))
    else:
        result = Extracted(kind, _decode_text(content))
    text = _tidy(result.text)
    if len(text) > limits.max_characters:
        raise CvRefused("bomb", f"The CV has more than {limits.max_characters:,} characters of text.")
    if len(re.findall(r"\w", text)) < 20:
        raise CvRefused("no-text", "No text could be read from this file (a scanned CV? send a text-based one).")
    return Extracted(result.kind, text, result.pages)


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[^\S\n]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _decode_text(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CvRefused("unsupported", "The file is not a PDF, DOCX or ODT, nor UTF-8 text.") from error
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\n\r\t\f")
    if "\x00" in text or controls > max(5, len(text) // 200):
        raise CvRefused("unsupported", "The file is not a PDF, DOCX or ODT, nor UTF-8 text.")
    return text


# -- archives (DOCX, ODT) ------------------------------------------------------------------------------------


def _open_zip(content: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise CvRefused("malformed", "The file looks like a DOCX or ODT but its archive is damaged.") from error


def _archive_kind(archive: zipfile.ZipFile) -> CvFileKind:
    names = archive.namelist()
    lowered = [name.lower() for name in names]
    if any(name.endswith("vbaproject.bin") or name.startswith(("basic/", "scripts/")) for name in lowered):
        raise CvRefused("macros", "The document contains macros; save it without them (DOCX, not DOCM).")
    if names and names[0] == "mimetype":
        if _small_entry(archive, "mimetype", 200).strip() == ODT_MIMETYPE:
            return CvFileKind.ODT
        raise CvRefused("unsupported", "This OpenDocument file is not a text document (ODT).")
    if "[Content_Types].xml" in names:
        types = _small_entry(archive, "[Content_Types].xml", 256 * 1024).lower()
        if DOCM_MAIN in types:
            raise CvRefused("macros", "The document is macro-enabled (DOCM); save it as a plain DOCX.")
        if DOCX_MAIN in types:
            return CvFileKind.DOCX
        raise CvRefused("unsupported", "This Office file is not a Word document (DOCX).")
    raise CvRefused("unsupported", "A ZIP archive is not a CV: send a PDF, DOCX, ODT or text file.")


def _small_entry(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise CvRefused("bomb", f"The entry {name!r} of the archive is too large.")
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError) as error:
        raise CvRefused("malformed", "The document's archive is damaged or encrypted.") from error
    if len(data) > limit:
        raise CvRefused("bomb", f"The entry {name!r} inflates beyond what it declares.")
    return data


def _safe_archive(content: bytes, limits: Limits) -> io.BytesIO:
    """A copy of the archive whose every entry was inflated here under the limits, never trusted blindly.

    The declared sizes and ratios are checked before anything is read; reading then stops at the
    declared size, so an entry that lies about its size cannot inflate past it. The parsers (python-docx,
    odfpy) only ever see this bounded copy. XML with a DOCTYPE (entity expansion) is refused.
    """
    archive = _open_zip(content)
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise CvRefused("bomb", f"The document holds more than {limits.max_entries} files.")
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_unpacked_bytes:
        raise CvRefused("bomb", "The document inflates to more than we read for a CV (a zip bomb?).")
    for info in infos:
        if info.flag_bits & 0x1:
            raise CvRefused("malformed", "Encrypted documents cannot be read.")
        inflated = info.file_size / info.compress_size if info.compress_size else float("inf")
        if info.file_size > 1024 and inflated > limits.max_ratio:
            raise CvRefused("bomb", "A part of the document inflates suspiciously (a zip bomb?).")
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as target:
        for info in infos:
            if info.is_dir():
                continue
            data = _small_entry(archive, info.filename, info.file_size)
            if info.filename.lower().endswith((".xml", ".rels")) and re.search(rb"<!(DOCTYPE|ENTITY)", data[:4096]):
                raise CvRefused("malformed", "The document's XML declares entities; it is refused.")
            target.writestr(info.filename, data)
    copy.seek(0)
    return copy


def _docx_text(archive: io.BytesIO, limits: Limits) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(archive)
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, SyntaxError) as error:
        raise CvRefused("malformed", "The DOCX file could not be read.") from error
    except Exception as error:  # lxml and python-docx raise many kinds on broken parts
        raise CvRefused("malformed", "The DOCX file could not be read.") from error
    lines: list[str] = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(dict.fromkeys(cell.text for cell in row.cells)))
    for section in document.sections:
        lines.extend(paragraph.text for paragraph in section.header.paragraphs)
    return "\n".join(lines)


def _odt_text(archive: io.BytesIO, limits: Limits) -> str:
    from odf import teletype
    from odf import text as odf_text
    from odf.opendocument import load

    try:
        document = load(archive)
    except Exception as error:  # odfpy raises whatever its SAX parser meets
        raise CvRefused("malformed", "The ODT file could not be read.") from error
    lines = [
        teletype.extractText(element)
        for element in document.text.getElementsByType(odf_text.H) + document.text.getElementsByType(odf_text.P)
    ]
    return "\n".join(lines)


# -- PDF -----------------------------------------------------------------------------------------------------


def _pdf_text(content: bytes, limits: Limits, deadline: float) -> tuple[str, int]:
    import pypdf
    from pypdf.errors import LimitReachedError, PdfReadError

    caps = limits.max_pdf_stream_bytes
    with pypdf.apply_configuration(
        maximum_declared_stream_length=caps,
        zlib_maximum_output_length=caps,
        lzw_maximum_output_length=caps,
        run_length_maximum_output_length=caps,
        array_based_stream_maximum_output_length=caps,
        image_maximum_buffer_size=caps,
    ):
        try:
            reader = pypdf.PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                raise CvRefused("malformed", "Encrypted PDF files cannot be read.")
            pages = len(reader.pages)
            if pages > limits.max_pages:
                raise CvRefused("bomb", f"The PDF has {pages} pages; a CV has at most {limits.max_pages}.")
            parts: list[str] = []
            total = 0
            seen = [0]

            def watch(text: str, *_: object) -> None:
                # Called for every text operator: bounds the time and text of one page, not only between pages.
                seen[0] += len(text)
                if time.monotonic() > deadline:
                    raise CvRefused("bomb", "Reading the PDF took too long; it is refused.")
                if seen[0] > limits.max_characters:
                    raise CvRefused("bomb", f"The CV has more than {limits.max_characters:,} characters of text.")

            for page in reader.pages:
                if time.monotonic() > deadline:
                    raise CvRefused("bomb", "Reading the PDF took too long; it is refused.")
                contents = page.get_contents()
                if contents is not None:
                    contents.get_data()  # inflated here under the caps: extract_text would swallow the limit
                text = page.extract_text(visitor_text=watch) or ""
                total += len(text)
                if total > limits.max_characters:
                    raise CvRefused("bomb", f"The CV has more than {limits.max_characters:,} characters of text.")
                parts.append(text)
        except CvRefused:
            raise
        except LimitReachedError as error:
            raise CvRefused("bomb", "A stream of the PDF inflates beyond what a CV needs (a PDF bomb?).") from error
        except (PdfReadError, RecursionError) as error:
            raise CvRefused("malformed", "The PDF file could not be read.") from error
        except Exception as error:  # pypdf raises many kinds on damaged files
            raise CvRefused("malformed", "The PDF file could not be read.") from error
    if time.monotonic() > deadline:
        raise CvRefused("bomb", "Reading the PDF took too long; it is refused.")
    return "\n".join(parts), pages
