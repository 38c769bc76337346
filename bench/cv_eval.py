"""Precision and recall of the CV skill suggestions against the labelled set: `python -m bench.cv_eval`.

Reads tests/data/cvs/labels.json and the files beside it through the same code the API runs
(app.cv.extract, then app.cv.matcher at the API's suggestion threshold), with the référentiel as the
migrations seed it (0002's skills_reference.json plus 0008_skills.json). No database needed.
Prints micro-averaged precision and recall, per language and per trade, then every miss and every
false positive with the evidence that produced it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from app.cv.extract import extract
from app.cv.matcher import SUGGESTION_THRESHOLD, SkillEntry, build_lexicon, candidates

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "cvs" / "labels.json"
SKILL_FILES = [
    ROOT / "app" / "members" / "skills_reference.json",
    ROOT / "migrations" / "versions" / "0008_skills.json",
]


def referentiel() -> list[SkillEntry]:
    return [
        SkillEntry(skill["slug"], skill["name"], tuple(skill["aliases"]), skill["category"])
        for path in SKILL_FILES
        for skill in json.loads(path.read_text(encoding="utf-8"))["skills"]
    ]


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=SUGGESTION_THRESHOLD)
    parser.add_argument("--quiet", action="store_true", help="figures only, no misses")
    args = parser.parse_args()
    lexicon = build_lexicon(referentiel())
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    totals: Counter[str] = Counter()
    groups: dict[str, Counter[str]] = {}
    misses, false_positives = [], []
    started = time.perf_counter()
    for entry in labels:
        content = (LABELS.parent / "files" / entry["file"]).read_bytes()
        found = {s.slug: s for s in candidates(extract(content).text, lexicon) if s.confidence >= args.threshold}
        truth = set(entry["skills"])
        tp, fp, fn = len(truth & set(found)), sorted(set(found) - truth), sorted(truth - set(found))
        for key in (
            "all",
            f"lang={entry['lang']}",
            f"trade={entry['trade']}",
            f"format={entry['file'].rsplit('.', 1)[1]}",
        ):
            group = groups.setdefault(key, Counter())
            group.update(tp=tp, fp=len(fp), fn=len(fn))
        totals.update(tp=tp, fp=len(fp), fn=len(fn))
        misses.extend((entry["file"], slug) for slug in fn)
        false_positives.extend(
            (entry["file"], slug, found[slug].matched, found[slug].confidence, found[slug].sentence[:90]) for slug in fp
        )
    elapsed = time.perf_counter() - started
    labelled = totals["tp"] + totals["fn"]
    print(f"{len(labels)} CVs, {labelled} labelled skills, threshold {args.threshold:.2f}, {elapsed:.2f} s")
    print(f"{'group':<22} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>4} {'fn':>4}")
    for key, group in sorted(groups.items(), key=lambda item: (item[0] != "all", item[0])):
        precision = ratio(group["tp"], group["tp"] + group["fp"])
        recall = ratio(group["tp"], group["tp"] + group["fn"])
        print(f"{key:<22} {precision:>9.3f} {recall:>7.3f} {group['tp']:>5} {group['fp']:>4} {group['fn']:>4}")
    if args.quiet:
        return
    print(f"\nmisses ({len(misses)}): labelled, not suggested")
    for file, slug in misses:
        print(f"  {file:<32} {slug}")
    print(f"\nfalse positives ({len(false_positives)}): suggested, not labelled")
    for file, slug, matched, confidence, sentence in false_positives:
        print(f"  {file:<32} {slug:<30} {confidence:.2f} {matched} | {sentence}")


if __name__ == "__main__":
    main()
