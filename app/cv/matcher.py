"""Finding référentiel skills in a CV's text, in French and English, with the evidence for each.

Owns: normalisation (case, accents, ligatures, French elisions, plurals, C++/C#/.NET-style names),
exact matching of skill names, aliases and the lexicon's extra terms (app/cv/lexicon.json) on word
sequences, fuzzy matching of long terms with rapidfuzz (typos), context rules for ambiguous words
("Go", "Vue", "bilan"...), years of experience where a sentence states them, and a confidence per
suggestion. Pure: no I/O beyond reading the lexicon file once, no database, nothing stored.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.json"
SUGGESTION_THRESHOLD = 0.6
MAX_EVIDENCE = 400
FUZZY_MIN_LENGTH = 7  # shorter terms are too close to ordinary words to forgive a typo
FUZZY_CUTOFF = 90.0

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "\u2019": "'", "\u02bc": "'"})
_SPECIAL_TOKENS = {"c++": "cpp", "c#": "csharp", "f#": "fsharp"}
_TOKEN = re.compile(r"[a-z0-9]+(?:\+\+|#)?")
_ELISION = re.compile(r"\b(?:qu|[cdjlmnst])'")
_SENTENCE_BREAK = re.compile(r"\n|(?<=[.!?;])\s+|\s*[•▪◦·|]\s+")
_YEARS = re.compile(r"\b(\d{1,2})\s*\+?\s*(?:ans|annees|an|years?|yrs?)\b")
_SINCE = re.compile(r"\b(?:depuis|since)\s+((?:19|20)\d{2})\b")
_RANGE = re.compile(
    r"\b((?:19|20)\d{2})\s*(?:-|\u2013|\u2014|a|to|au)\s*((?:19|20)\d{2}|aujourd.hui|present|today|now|ce jour|actuel)"
)
_EXPERT = re.compile(r"\b(?:expert|experte|expertise|maitrise|advanced|avance|avancee|senior|confirme|confirmee)\b")
_BEGINNER = re.compile(r"\b(?:notions?|debutant|debutante|basics|beginner|initiation|scolaire)\b")


def fold(text: str) -> str:
    """Lowercase, no accents, ligatures spelled out; one output character per input character where possible."""
    out = []
    for char in text.translate(_LIGATURES):
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c)) or " "
        out.append(base.lower() if len(base.lower()) == 1 else base[0].lower())
    return "".join(out)


def stem(token: str) -> str:
    """Light FR/EN inflection: plurals (-s, -x, -ies) folded; the same on both sides of a comparison."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token[-1] in "sx" and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


@dataclass(frozen=True)
class Token:
    word: str  # normalised and stemmed
    start: int  # offsets in the sentence's original text
    end: int


def tokens(text: str, stopwords: frozenset[str]) -> list[Token]:
    folded = _ELISION.sub(lambda m: " " * len(m.group()), fold(text))
    result = []
    for match in _TOKEN.finditer(folded):
        raw = match.group()
        word = _SPECIAL_TOKENS.get(raw, raw)
        at = match.start()
        if word == "net" and at > 0 and folded[at - 1] == "." and (at < 2 or not folded[at - 2].isalnum()):
            word = "dotnet"
        if word in stopwords:
            continue
        result.append(Token(stem(word), match.start(), match.end()))
    return result


@dataclass(frozen=True)
class SkillEntry:
    """A référentiel skill as the matcher sees it."""

    slug: str
    name: str
    aliases: Sequence[str] = ()
    category: str = ""


@dataclass(frozen=True)
class Term:
    slug: str
    words: tuple[str, ...]
    text: str  # as written in the référentiel or lexicon
    kind: str  # name, alias, term
    rule: str | None  # None, "sentence" or "document": what an ambiguous term needs to count
    # "exact": short terms ("R", "C") count only written as the référentiel writes them (or in capitals);
    # "capital": words that are also ordinary words ("Swift", "Excel") count only capitalised.
    case: str | None


@dataclass
class Suggestion:
    slug: str
    confidence: float
    kind: str  # name, alias, term, fuzzy, context
    sentence: str
    matched: list[str]
    years: int | None = None
    level: int = 2
    mentions: int = 1


@dataclass
class _Hit:
    term: Term
    sentence_index: int
    start: int
    end: int
    matched: str
    kind: str
    score: float


@dataclass(frozen=True)
class Lexicon:
    terms_by_first: dict[str, list[Term]]
    fuzzy_by_first: dict[tuple[str, int], list[Term]]
    stopwords: frozenset[str]
    context: dict[str, frozenset[str]]
    categories: dict[str, str]
    max_words: int = 1
    ignored: frozenset[tuple[str, ...]] = field(default_factory=frozenset)


@lru_cache(maxsize=1)
def _lexicon_data() -> dict:
    return json.loads(LEXICON_FILE.read_text(encoding="utf-8"))


def build_lexicon(skills: Iterable[SkillEntry]) -> Lexicon:
    data = _lexicon_data()
    stopwords = frozenset(data["stopwords"])
    ambiguous: dict[str, str] = {fold(term): rule for term, rule in data["ambiguous"].items()}
    ignored = frozenset(tuple(token.word for token in tokens(term, stopwords)) for term in data["ignore"])
    capitalised = frozenset(fold(term) for term in data["capitalised"])
    terms_by_first: dict[str, list[Term]] = {}
    fuzzy_by_first: dict[tuple[str, int], list[Term]] = {}
    categories: dict[str, str] = {}
    context: dict[str, frozenset[str]] = {}
    max_words = 1
    for skill in skills:
        categories[skill.slug] = skill.category
        written = [(skill.name, "name"), *((alias, "alias") for alias in skill.aliases)]
        written += [(term, "term") for term in data["terms"].get(skill.slug, [])]
        context[skill.slug] = frozenset(
            stem(word) for word in data["context"].get(skill.slug, []) + data["context"].get(skill.category, [])
        )
        seen: set[tuple[str, ...]] = set()
        for text, kind in written:
            folded = fold(text).strip()
            words = tuple(token.word for token in tokens(text, stopwords))
            if not words or words in seen or words in ignored:
                continue
            seen.add(words)
            short = len(folded.replace(" ", "")) <= 2
            rule = ambiguous.get(folded, "sentence" if short else None)
            case = "exact" if short else ("capital" if folded in capitalised else None)
            term = Term(skill.slug, words, text, kind, rule, case)
            terms_by_first.setdefault(words[0], []).append(term)
            max_words = max(max_words, len(words))
            if rule is None and len("".join(words)) >= FUZZY_MIN_LENGTH:
                fuzzy_by_first.setdefault((words[0][0], len(words)), []).append(term)
    return Lexicon(terms_by_first, fuzzy_by_first, stopwords, context, categories, max_words, ignored)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if part and len(part.strip()) > 1]


def language(text: str) -> str:
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    french = sum(word in {"et", "de", "des", "le", "la", "les", "pour", "avec", "une", "du", "en"} for word in words)
    english = sum(word in {"and", "of", "the", "for", "with", "to", "in", "a", "an", "on"} for word in words)
    if french > 2 * english:
        return "fr"
    if english > 2 * french:
        return "en"
    return "mixed"


def match(text: str, lexicon: Lexicon, *, today: date | None = None) -> list[Suggestion]:
    """Suggestions at or above SUGGESTION_THRESHOLD, best first; see `candidates` for all of them."""
    return [s for s in candidates(text, lexicon, today=today) if s.confidence >= SUGGESTION_THRESHOLD]


def candidates(text: str, lexicon: Lexicon, *, today: date | None = None) -> list[Suggestion]:
    today = today or date.today()
    parts = sentences(text)
    hits: list[_Hit] = []
    per_sentence_tokens = [tokens(sentence, lexicon.stopwords) for sentence in parts]
    for index, (sentence, words) in enumerate(zip(parts, per_sentence_tokens, strict=True)):
        hits.extend(_sentence_hits(index, sentence, words, lexicon))
    hits = _apply_context(hits, per_sentence_tokens, lexicon)
    return _suggestions(hits, parts, today)


def _sentence_hits(index: int, sentence: str, words: list[Token], lexicon: Lexicon) -> list[_Hit]:
    hits: list[_Hit] = []
    position = 0
    while position < len(words):
        best: list[Term] = []
        for term in lexicon.terms_by_first.get(words[position].word, []):
            size = len(term.words)
            if tuple(token.word for token in words[position : position + size]) != term.words:
                continue
            span = sentence[words[position].start : words[position + size - 1].end]
            if term.case == "exact" and span not in (term.text, term.text.upper()):
                continue
            if term.case == "capital" and not span[:1].isupper():
                continue
            if not best or size > len(best[0].words):
                best = [term]
            elif size == len(best[0].words) and term.slug not in {other.slug for other in best}:
                best.append(term)  # one phrase, several skills ("HTML/CSS")
        if best:
            size = len(best[0].words)
            start, end = words[position].start, words[position + size - 1].end
            for term in best:
                score = {"name": 0.95, "alias": 0.9, "term": 0.85}[term.kind]
                hits.append(_Hit(term, index, start, end, sentence[start:end], term.kind, score))
            position += size
            continue
        fuzzy = _fuzzy_hit(index, sentence, words, position, lexicon)
        if fuzzy is not None:
            hits.append(fuzzy)
            position += len(fuzzy.term.words)
            continue
        position += 1
    return hits


def _fuzzy_hit(index: int, sentence: str, words: list[Token], position: int, lexicon: Lexicon) -> _Hit | None:
    """A long term written with a typo ("Kuberntes", "Postgre SQL" aside): same first letter, ratio >= 90."""
    best: _Hit | None = None
    for size in range(1, min(lexicon.max_words, len(words) - position) + 1):
        window = words[position : position + size]
        joined = " ".join(token.word for token in window)
        if len(joined.replace(" ", "")) < FUZZY_MIN_LENGTH:
            continue
        for term in lexicon.fuzzy_by_first.get((joined[0], size), []):
            ratio = fuzz.ratio(joined, " ".join(term.words), score_cutoff=FUZZY_CUTOFF)
            if ratio and (best is None or ratio / 100 > best.score):
                span = sentence[window[0].start : window[-1].end]
                best = _Hit(term, index, window[0].start, window[-1].end, span, "fuzzy", ratio / 100)
    if best is not None:
        best.score = 0.6 + (best.score - FUZZY_CUTOFF / 100) * 2.0  # 0.60 at the cutoff, 0.80 at 100
    return best


def _apply_context(hits: list[_Hit], per_sentence: list[list[Token]], lexicon: Lexicon) -> list[_Hit]:
    """Ambiguous words count only near evidence: another clear skill in the same sentence (or, for
    domain words, anywhere in the CV, of the same category), or one of the skill's context words."""
    clear = [hit for hit in hits if hit.term.rule is None]
    categories_seen = {lexicon.categories.get(hit.term.slug) for hit in clear}
    kept = []
    for hit in hits:
        rule = hit.term.rule
        if rule is None:
            kept.append(hit)
            continue
        words = {token.word for token in per_sentence[hit.sentence_index]}
        category = lexicon.categories.get(hit.term.slug)
        near = any(
            other.sentence_index == hit.sentence_index
            and other.term.slug != hit.term.slug
            and (other.term.rule is None or lexicon.categories.get(other.term.slug) == category)
            for other in hits
        )
        context = bool(lexicon.context.get(hit.term.slug, frozenset()) & words)
        same_domain = category in categories_seen
        if context or near or (rule == "document" and same_domain):
            hit.kind, hit.score = "context", min(hit.score, 0.75 if context or near else 0.65)
            kept.append(hit)
    return kept


def _years(folded: str, today: date) -> int | None:
    found = [int(value) for value in _YEARS.findall(folded)]
    found += [today.year - int(value) for value in _SINCE.findall(folded)]
    for start, end in _RANGE.findall(folded):
        finish = int(end) if end[:2] in ("19", "20") else today.year
        found.append(finish - int(start))
    found = [value for value in found if 0 < value <= 60]
    return max(found) if found else None


def _level(years: int | None, folded_sentences: Iterable[str]) -> int:
    text = " ".join(folded_sentences)
    if _BEGINNER.search(text):
        return 1
    if _EXPERT.search(text) or (years or 0) >= 8:
        return 4
    if (years or 0) >= 3:
        return 3
    return 2


def _suggestions(hits: list[_Hit], parts: list[str], today: date) -> list[Suggestion]:
    by_slug: dict[str, list[_Hit]] = {}
    for hit in hits:
        by_slug.setdefault(hit.term.slug, []).append(hit)
    result = []
    for slug, found in by_slug.items():
        found.sort(key=lambda hit: (-hit.score, hit.sentence_index))
        best = found[0]
        folded = [fold(parts[index]) for index in {hit.sentence_index for hit in found}]
        years_found = [value for value in (_years(sentence, today) for sentence in folded) if value is not None]
        years = max(years_found) if years_found else None
        mentions = len({hit.sentence_index for hit in found})
        confidence = min(0.99, best.score + 0.02 * min(mentions - 1, 2))
        result.append(
            Suggestion(
                slug=slug,
                confidence=round(confidence, 2),
                kind=best.kind,
                sentence=_evidence(parts[best.sentence_index], best.start, best.end),
                matched=list(dict.fromkeys(hit.matched for hit in found))[:5],
                years=years,
                level=_level(years, folded),
                mentions=mentions,
            )
        )
    result.sort(key=lambda s: (-s.confidence, s.slug))
    return result


def _evidence(sentence: str, start: int, end: int) -> str:
    if len(sentence) <= MAX_EVIDENCE:
        return sentence
    half = (MAX_EVIDENCE - (end - start)) // 2
    left = max(0, start - half)
    return ("…" if left else "") + sentence[left : left + MAX_EVIDENCE].strip() + "…"
