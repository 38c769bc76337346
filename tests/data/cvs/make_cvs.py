"""Writes the labelled CV set: `python -m tests.data.cvs.make_cvs` (needs the test extras: fpdf2).

The texts and labels live in corpus_a.py and corpus_b.py; this script renders each CV in one of the
four formats the API reads (PDF, DOCX, ODT, UTF-8 text, in turn) under files/, and writes labels.json.
The output is committed, so the evaluation (`python -m bench.cv_eval`) needs none of the writers.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from tests.data.cvs import corpus_a, corpus_b

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
FORMATS = ("pdf", "docx", "odt", "txt")
# The PDF core fonts are Latin-1: typographic characters outside it are written as their ASCII kin.
_LATIN1 = str.maketrans(
    {"\u2019": "'", "œ": "oe", "Œ": "OE", "\u2014": "-", "\u2013": "-", "\u2022": "-", "\u2026": "...", "€": "EUR"}
)
FIXED_DATE = datetime(2026, 12, 1)  # so regenerating gives the same bytes where the writer allows it


def pdf(lines: list[str]) -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_creation_date(FIXED_DATE)
    document.add_page()
    document.set_font("helvetica", "B", size=14)
    document.multi_cell(0, 8, lines[0].translate(_LATIN1), new_x="LMARGIN", new_y="NEXT")
    document.set_font("helvetica", size=10)
    for line in lines[1:]:
        document.multi_cell(0, 5, line.translate(_LATIN1), new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


def docx(lines: list[str]) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.core_properties.created = FIXED_DATE
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt(lines: list[str]) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=lines[0]))
    for line in lines[1:]:
        document.text.addElement(P(text=line))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def txt(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


WRITERS = {"pdf": pdf, "docx": docx, "odt": odt, "txt": txt}


def main() -> None:
    FILES.mkdir(exist_ok=True)
    labels = []
    for index, cv in enumerate(corpus_a.CVS + corpus_b.CVS):
        kind = FORMATS[index % len(FORMATS)]
        name = f"{cv['id']}_{cv['lang']}_{cv['trade']}.{kind}"
        (FILES / name).write_bytes(WRITERS[kind](cv["lines"]))
        labels.append({"file": name, "lang": cv["lang"], "trade": cv["trade"], "skills": sorted(cv["labels"])})
    (HERE / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(labels)} CVs written to {FILES}")


if __name__ == "__main__":
    main()
