"""The CV matcher on its own: normalisation, ambiguous words, evidence and years; and the labelled set's figures."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from app.cv.extract import extract
from app.cv.matcher import SUGGESTION_THRESHOLD, build_lexicon, match
from bench.cv_eval import LABELS, referentiel

LEXICON = build_lexicon(referentiel())
TODAY = date(2026, 12, 1)


def slugs(text: str) -> dict[str, object]:
    return {s.slug: s for s in match(text, LEXICON, today=TODAY)}


def test_accents_plurals_and_special_names_are_folded() -> None:
    found = slugs("Développement en C++ et C#, applications ASP.NET ; bases de données PostgreSQL ; Node.js")
    assert {"cpp", "csharp", "aspdotnet", "postgresql", "node-js"} <= set(found)
    assert "accessibility-audit" in slugs("Plusieurs audits accessibilité réalisés")


def test_ambiguous_words_need_context() -> None:
    assert "go" not in slugs("I am the go-to person for clients. Let's go!")
    assert "go" in slugs("Back-end services in Go and Python")
    assert "vue-js" not in slugs("En vue de la réunion, j'ai préparé le budget.")
    assert "r" not in slugs("Budget R&D de la société, r comme rigueur")
    assert "r" in slugs("Statistical analysis with R and Python")
    assert "spreadsheets-excel-libreoffice-calc" not in slugs("I excel at managing teams")


def test_a_suggestion_carries_its_evidence_and_years() -> None:
    found = slugs("Comptable depuis 2014.\nDéclarations de TVA, paie de 40 salariés, 5 ans de Sage 100.")
    accounting, sage = found["accounting"], found["sage-accounting"]
    assert accounting.sentence == "Comptable depuis 2014." and accounting.years == 12
    assert sage.matched == ["Sage 100"] and sage.years == 5
    assert {"taxation", "payroll"} <= set(found)
    assert all(s.confidence >= SUGGESTION_THRESHOLD for s in found.values())


def test_typos_in_long_terms_are_forgiven_with_less_confidence() -> None:
    found = slugs("Orchestration avec Kuberntes et Terraform")
    assert found["kubernetes"].kind == "fuzzy" and found["kubernetes"].confidence < found["terraform"].confidence


def test_the_labelled_set_meets_the_targets() -> None:
    """The figures bench.cv_eval prints, held as a floor so a matcher change cannot quietly lower them."""
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    assert len(labels) >= 40
    assert {entry["file"].rsplit(".", 1)[1] for entry in labels} == {"pdf", "docx", "odt", "txt"}
    tp = fp = fn = 0
    for entry in labels:
        content = (Path(LABELS).parent / "files" / entry["file"]).read_bytes()
        found = {s.slug for s in match(extract(content).text, LEXICON)}
        truth = set(entry["skills"])
        tp, fp, fn = tp + len(found & truth), fp + len(found - truth), fn + len(truth - found)
    assert tp / (tp + fp) >= 0.85
    assert tp / (tp + fn) >= 0.70
