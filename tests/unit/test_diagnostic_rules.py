"""The needs diagnostic's rules on their own: the shipped file, what answers fire, and where each element comes from."""

from __future__ import annotations

from datetime import date

import pytest

from app.diagnostic import rules
from bench.cv_eval import referentiel

TODAY = date(2026, 12, 1)


def test_the_shipped_questionnaire_is_valid_and_names_only_referentiel_skills() -> None:
    questionnaire = rules.load()
    slugs = {skill.slug for skill in referentiel()}
    assert questionnaire.slugs() <= slugs, questionnaire.slugs() - slugs


def test_a_commune_wanting_an_accessible_site_with_bookings() -> None:
    questionnaire = rules.load()
    answers = {
        "organisation": ["commune"],
        "existing": ["old_website"],
        "goals": ["showcase_site", "booking"],
        "budget": ["from_15k_to_40k"],
        "deadline": ["one_quarter"],
        "place": ["hybrid"],
    }
    draft = rules.draft(questionnaire, answers, TODAY)
    assert draft.title == "Projet : site vitrine, réservations en ligne"
    assert {s.answer for s in draft.title_sources} == {"showcase_site", "booking"}
    seats = {seat.key: seat for seat in draft.seats}
    assert set(seats) == {"web", "app"}
    assert seats["web"].skills["web-accessibility"] == 3 and seats["web"].skills["seo"] == 2
    accessibility = {(s.rule, s.question, s.answer) for s in seats["web"].skill_sources["web-accessibility"]}
    assert ("public_site_accessible", "organisation", "commune") in accessibility
    assert (draft.budget_min_minor, draft.budget_max_minor) == (1_500_000, 4_000_000)
    assert [s.answer for s in draft.budget_sources] == ["from_15k_to_40k"]
    assert draft.weeks == 12 and draft.starts_on == date(2026, 12, 15) and draft.ends_on == date(2027, 3, 9)
    assert draft.work_mode == "hybrid"
    assert "design_for_site" not in draft.rules_fired  # needs no site or only social networks today


def test_no_answers_draft_a_mission_to_describe() -> None:
    draft = rules.draft(rules.load(), {}, TODAY)
    assert draft.seats == [] and draft.title == "Projet numérique à préciser" and draft.budget_min_minor is None


def test_answers_that_do_not_fit_are_listed() -> None:
    problems = rules.check_answers(
        rules.load(), {"budget": ["under_5k", "over_40k"], "goals": ["moon_base"], "colour": ["blue"]}
    )
    assert {field for field, _ in problems} == {"budget", "goals", "colour"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"questions": []}, "questions"),
        (
            {
                "questions": [{"id": "q", "text": "?", "answers": [{"id": "a", "text": "A"}]}],
                "rules": [{"id": "r", "when": {"q": ["b"]}}],
            },
            "unknown question or answer",
        ),
        (
            {
                "questions": [{"id": "q", "text": "?", "answers": [{"id": "a", "text": "A"}]}],
                "rules": [{"id": "r", "when": {"q": ["a"]}, "colour": "red"}],
            },
            "unknown keys",
        ),
        (
            {
                "questions": [{"id": "q", "text": "?", "answers": [{"id": "a", "text": "A"}]}],
                "rules": [{"id": "r", "when": {"q": ["a"]}, "budget": {"min_minor": 5, "max_minor": 1}}],
            },
            "budget",
        ),
    ],
)
def test_a_faulty_file_is_refused_with_the_place_of_the_fault(document: dict, message: str) -> None:
    with pytest.raises(rules.QuestionnaireError, match=message):
        rules.parse(document)
