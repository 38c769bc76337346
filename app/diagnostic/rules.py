"""The needs diagnostic's questionnaire file and its rules, turning answers into a draft mission.

Owns the file format (checked when loaded: unknown questions, answers or keys are errors, so a typo
in an administrator's edit is caught at once) and the pure evaluation: which rules the answers
fire, and what each element of the draft owes to which answers. Knows nothing of the database or
HTTP; skills are référentiel slugs, resolved by the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent / "questionnaire.yaml"
RULE_KEYS = {"id", "when", "title", "description", "seat", "budget", "weeks", "work_mode"}
DEFAULT_WEEKS = 8
START_AFTER_DAYS = 14


class QuestionnaireError(ValueError):
    """The questionnaire file is not valid; the message names the faulty place."""


@dataclass(frozen=True)
class Answer:
    id: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str  # single, multiple
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    when: Mapping[str, tuple[str, ...]]
    title: str | None = None
    description: str | None = None
    seat: Mapping[str, Any] | None = None  # key, title, skills (slug -> level)
    budget: Mapping[str, int] | None = None
    weeks: int | None = None
    work_mode: str | None = None


@dataclass(frozen=True)
class Questionnaire:
    version: str
    title: str
    intro: str
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def slugs(self) -> set[str]:
        return {slug for rule in self.rules if rule.seat for slug in rule.seat["skills"]}


@dataclass(frozen=True)
class Source:
    """One answer that produced an element of the draft, through one rule."""

    rule: str
    question: str
    answer: str
    answer_text: str


@dataclass
class DraftSeat:
    key: str
    title: str
    skills: dict[str, int] = field(default_factory=dict)
    skill_sources: dict[str, list[Source]] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)


@dataclass
class Draft:
    title: str
    title_sources: list[Source]
    description: str
    description_sources: list[Source]
    seats: list[DraftSeat]
    budget_min_minor: int | None
    budget_max_minor: int | None
    budget_sources: list[Source]
    starts_on: date
    ends_on: date
    weeks: int
    timeline_sources: list[Source]
    work_mode: str
    work_mode_sources: list[Source]
    rules_fired: list[str]


def _fail(where: str, message: str) -> QuestionnaireError:
    return QuestionnaireError(f"{where}: {message}")


def parse(document: Any) -> Questionnaire:
    if not isinstance(document, dict):
        raise _fail("file", "the top level is a mapping")
    questions = []
    for index, raw in enumerate(document.get("questions") or []):
        where = f"questions[{index}]"
        if not isinstance(raw, dict) or not {"id", "text", "answers"} <= set(raw):
            raise _fail(where, "a question has id, text and answers")
        kind = raw.get("kind", "single")
        if kind not in ("single", "multiple"):
            raise _fail(where, "kind is single or multiple")
        answers = tuple(Answer(str(a["id"]), str(a["text"])) for a in raw["answers"])
        if len({a.id for a in answers}) != len(answers) or not answers:
            raise _fail(where, "answers have distinct ids")
        questions.append(Question(str(raw["id"]), str(raw["text"]), kind, answers))
    if len({q.id for q in questions}) != len(questions) or not questions:
        raise _fail("questions", "there are questions, with distinct ids")
    known = {q.id: {a.id for a in q.answers} for q in questions}
    rules = []
    for index, raw in enumerate(document.get("rules") or []):
        where = f"rules[{index}]"
        if not isinstance(raw, dict) or "id" not in raw or not isinstance(raw.get("when"), dict):
            raise _fail(where, "a rule has an id and a `when` mapping")
        if set(raw) - RULE_KEYS:
            raise _fail(where, f"unknown keys {sorted(set(raw) - RULE_KEYS)}")
        when = {}
        for question_id, answer_ids in raw["when"].items():
            answer_ids = tuple(answer_ids if isinstance(answer_ids, list) else [answer_ids])
            if question_id not in known or not set(answer_ids) <= known[question_id]:
                raise _fail(where, f"`when` names an unknown question or answer ({question_id}: {list(answer_ids)})")
            when[question_id] = answer_ids
        seat = raw.get("seat")
        if seat is not None:
            skills = seat.get("skills") if isinstance(seat, dict) else None
            if not isinstance(skills, dict) or not {"key", "title"} <= set(seat):
                raise _fail(where, "a seat has key, title and skills (slug: level)")
            if not all(isinstance(level, int) and 1 <= level <= 5 for level in skills.values()):
                raise _fail(where, "skill levels are 1 to 5")
        budget = raw.get("budget")
        if budget is not None and not (
            isinstance(budget, dict) and 0 <= budget.get("min_minor", -1) <= budget.get("max_minor", -1)
        ):
            raise _fail(where, "budget has min_minor <= max_minor (euro cents)")
        weeks = raw.get("weeks")
        if weeks is not None and not (isinstance(weeks, int) and 1 <= weeks <= 104):
            raise _fail(where, "weeks is 1 to 104")
        if raw.get("work_mode") not in (None, "on_site", "remote", "hybrid"):
            raise _fail(where, "work_mode is on_site, remote or hybrid")
        rules.append(
            Rule(
                id=str(raw["id"]),
                when=when,
                title=raw.get("title"),
                description=raw.get("description"),
                seat=seat,
                budget=budget,
                weeks=weeks,
                work_mode=raw.get("work_mode"),
            )
        )
    if len({r.id for r in rules}) != len(rules):
        raise _fail("rules", "rule ids are distinct")
    return Questionnaire(
        str(document.get("version", "1")),
        str(document.get("title", "")),
        str(document.get("intro", "")),
        tuple(questions),
        tuple(rules),
    )


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Questionnaire:
    with Path(path).open(encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle))


def load(path: Path | None = None) -> Questionnaire:
    """The questionnaire at `path` (the shipped one by default), re-read when the file changes."""
    path = path or DEFAULT_FILE
    return _load(str(path), path.stat().st_mtime)


def check_answers(questionnaire: Questionnaire, answers: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(field, message) for every answer that does not fit the questionnaire."""
    problems = []
    for question_id, chosen in answers.items():
        question = questionnaire.question(question_id)
        if question is None:
            problems.append((question_id, "No such question."))
            continue
        if question.kind == "single" and len(chosen) > 1:
            problems.append((question_id, "This question takes one answer."))
        unknown = set(chosen) - {a.id for a in question.answers}
        if unknown:
            problems.append((question_id, f"Unknown answers {sorted(unknown)}."))
    return problems


def draft(questionnaire: Questionnaire, answers: Mapping[str, Sequence[str]], today: date) -> Draft:
    """The draft mission the answers produce, each element with the answers (and rules) behind it."""
    texts = {(q.id, a.id): a.text for q in questionnaire.questions for a in q.answers}
    titles: list[tuple[str, list[Source]]] = []
    descriptions: list[tuple[str, list[Source]]] = []
    seats: dict[str, DraftSeat] = {}
    budget: tuple[Mapping[str, int], list[Source]] | None = None
    weeks: tuple[int, list[Source]] | None = None
    work_mode: tuple[str, list[Source]] | None = None
    fired = []
    for rule in questionnaire.rules:
        if not rule.when or not all(set(answers.get(q, ())) & set(allowed) for q, allowed in rule.when.items()):
            continue
        fired.append(rule.id)
        sources = [
            Source(rule.id, q, a, texts[(q, a)])
            for q, allowed in rule.when.items()
            for a in answers.get(q, ())
            if a in allowed
        ]
        if rule.title:
            titles.append((rule.title, sources))
        if rule.description:
            descriptions.append((rule.description, sources))
        if rule.seat:
            seat = seats.setdefault(rule.seat["key"], DraftSeat(rule.seat["key"], rule.seat["title"]))
            seat.sources.extend(sources)
            for slug, level in rule.seat["skills"].items():
                seat.skills[slug] = max(seat.skills.get(slug, 0), level)
                seat.skill_sources.setdefault(slug, []).extend(sources)
        if rule.budget:
            budget = (rule.budget, sources)
        if rule.weeks:
            weeks = (rule.weeks, sources)
        if rule.work_mode:
            work_mode = (rule.work_mode, sources)
    title = ("Projet : " + ", ".join(text for text, _ in titles)) if titles else "Projet numérique à préciser"
    length = weeks[0] if weeks else DEFAULT_WEEKS
    starts_on = today + timedelta(days=START_AFTER_DAYS)
    return Draft(
        title=title[:200],
        title_sources=[s for _, sources in titles for s in sources],
        description="\n\n".join(text for text, _ in descriptions)
        or "Décrivez ici votre projet : ce que vous avez, ce que vous voulez, pour qui.",
        description_sources=[s for _, sources in descriptions for s in sources],
        seats=list(seats.values()),
        budget_min_minor=budget[0]["min_minor"] if budget else None,
        budget_max_minor=budget[0]["max_minor"] if budget else None,
        budget_sources=budget[1] if budget else [],
        starts_on=starts_on,
        ends_on=starts_on + timedelta(weeks=length),
        weeks=length,
        timeline_sources=weeks[1] if weeks else [],
        work_mode=work_mode[0] if work_mode else "hybrid",
        work_mode_sources=work_mode[1] if work_mode else [],
        rules_fired=fired,
    )
