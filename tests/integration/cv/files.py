"""CV files for the tests, made on the fly: ordinary ones in each format, and hostile ones."""

from __future__ import annotations

import io
import zipfile
import zlib

from fpdf import FPDF

CONTENT_TYPES_DOCX = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def docx(lines: list[str]) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt(lines: list[str]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    for line in lines:
        document.text.addElement(P(text=line))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def pdf(lines: list[str]) -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=11)
    for line in lines:
        document.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


def _zip(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def docx_with_macros() -> bytes:
    """A real DOCX with a VBA project added: refused whatever its content type says."""
    base = zipfile.ZipFile(io.BytesIO(docx(["Camille, développeuse Python"])))
    entries = [(info.filename, base.read(info)) for info in base.infolist()]
    return _zip([*entries, ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"Attribute VB_Name" * 10)])


def docm() -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES_DOCX.format(main=DOCM_MAIN).encode()),
            ("word/document.xml", b"<w:document/>"),
        ]
    )


def zip_bomb_docx() -> bytes:
    """Looks like a DOCX (the right content types), but document.xml inflates to 40 MB of nothing."""
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES_DOCX.format(main=DOCX_MAIN).encode()),
            ("word/document.xml", b"<" + b"\x00" * (40 * 1024 * 1024)),
        ]
    )


def entity_bomb_docx() -> bytes:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
        b"<w:document>&lol2;</w:document>"
    )
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES_DOCX.format(main=DOCX_MAIN).encode()),
            ("word/document.xml", laughs),
        ]
    )


def odt_with_macros() -> bytes:
    base = zipfile.ZipFile(io.BytesIO(odt(["Camille, menuisière"])))
    entries = [(info.filename, base.read(info)) for info in base.infolist()]
    return _zip([*entries, ("Basic/Standard/Module1.xml", b"<script:module>Sub Main</script:module>")])


def _raw_pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def pdf_page_bomb(pages: int = 20_000) -> bytes:
    """One page object listed twenty thousand times in the page tree."""
    kids = b" ".join(b"3 0 R" for _ in range(pages))
    return _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length 0 >>\nstream\n\nendstream",
        ]
    )


def pdf_stream_bomb() -> bytes:
    """A page whose content stream is 60 KB of deflate that inflates to 64 MB."""
    payload = zlib.compress(b" " * (64 * 1024 * 1024), 9)
    return _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload) + payload + b"\nendstream",
        ]
    )
