"""Reading untrusted CV files: what the integration tests cannot afford to wait for (the reading deadline)."""

from __future__ import annotations

import zlib

import pytest

from app.cv.extract import CvRefused, Limits, extract, sniff
from app.models import CvFileKind
from tests.integration.cv.files import _raw_pdf, docx, odt, pdf


def slow_pdf(operators: int) -> bytes:
    """One page of many tiny text operators: small to send, slow to read."""
    ops = b"BT /F1 1 Tf " + b"(ab) Tj 1 0 Td " * operators + b"ET"
    payload = zlib.compress(ops, 9)
    return _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload) + payload + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def test_reading_stops_at_the_deadline_inside_a_page() -> None:
    with pytest.raises(CvRefused) as refused:
        extract(slow_pdf(20_000), Limits(max_seconds=0.05))
    assert refused.value.reason == "bomb" and "too long" in refused.value.detail


def test_the_kind_comes_from_the_bytes() -> None:
    lines = ["Camille Martin", "Développeuse Python"]
    assert sniff(pdf(lines)) == CvFileKind.PDF
    assert sniff(docx(lines)) == CvFileKind.DOCX
    assert sniff(odt(lines)) == CvFileKind.ODT
    assert sniff("Camille Martin\nDéveloppeuse".encode()) == CvFileKind.TEXT
