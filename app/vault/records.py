"""The archive's documented files: one strict struct per file (or per row of a tabular file).

The same structs write the export, validate an import, and generate the JSON Schemas published in
docs/vault/ (`python -m app.vault.records docs/vault` rewrites them; a test checks they are current).
Tabular sections are listed in `SECTIONS`; a feature that adds personal data adds a row struct and a
`Section` here and a row source in the vault's repository (payments did: ledger lines, invoices, payouts).

Nothing here reads the database or knows HTTP.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec

FORMAT = "coop-vault"
FORMAT_VERSION = "1.0"


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Unknown fields in an archive are refused, not silently dropped."""


class AccountFile(Strict):
    id: uuid.UUID
    # Every id this person had: this cooperative's, and those of the archives they moved in with.
    identifiers: list[str]
    email: str
    display_name: str
    role: str
    member_status: str | None
    created_at: datetime
    email_verified_at: datetime | None


class ProfileSkill(Strict):
    slug: str
    name: str
    esco_uri: str | None
    level: int
    years: int
    declared: bool
    attestations: int


class Availability(Strict):
    starts_on: date
    ends_on: date
    share_percent: int


class Language(Strict):
    code: str
    level: str


class Link(Strict):
    kind: str
    url: str


class ProfileFile(Strict):
    display_name: str
    headline: str
    bio: str
    photo_url: str | None
    day_rate_min_minor: int
    day_rate_max_minor: int
    currency: str
    available_from: date | None
    city: str
    postal_code: str
    region: str
    country: str
    latitude: float | None
    longitude: float | None
    work_mode: str
    travel_km: int
    languages: list[Language]
    links: list[Link]
    contact_email: str | None
    contact_phone: str | None
    visibility: str
    skills: list[ProfileSkill]
    availability: list[Availability]


class ApplicationRow(Strict):
    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    seat_title: str
    message: str
    proposed_day_rate_minor: int
    status: str
    created_at: datetime
    decided_at: datetime | None


class EngagementRow(Strict):
    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    seat_title: str
    client_name: str
    day_rate_minor: int
    days: int | None
    currency: str
    starts_on: date
    ends_on: date
    mission_status: str
    delivered_at: datetime | None
    created_at: datetime


class ReviewGivenRow(Strict):
    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    subject_id: uuid.UUID
    rating: int
    text: str
    skills_seen: list[str]
    created_at: datetime
    published_at: datetime | None


class ReviewReceivedRow(Strict):
    id: uuid.UUID
    mission_id: uuid.UUID
    mission_title: str
    author_id: uuid.UUID
    rating: int
    text: str
    skills_seen: list[str]
    created_at: datetime
    published_at: datetime | None


class AttendanceRow(Strict):
    assembly_id: uuid.UUID
    assembly_title: str
    present: bool
    recorded_at: datetime


class BallotReceiptRow(Strict):
    """That the member took part in a decision, and how; never what they chose."""

    proposal_id: uuid.UUID
    proposal_title: str
    assembly_id: uuid.UUID | None
    channel: str
    cast_by_self: bool
    cast_at: datetime
    changes: int


class ProxyRow(Strict):
    id: uuid.UUID
    role: str  # "given" (the member is the principal) or "held"
    assembly_id: uuid.UUID | None
    proposal_id: uuid.UUID | None
    principal_id: uuid.UUID
    holder_id: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None


class ProposalCommentRow(Strict):
    """A comment the member wrote in a proposal's discussion (its text opened from its sealed form)."""

    id: uuid.UUID
    proposal_id: uuid.UUID
    proposal_title: str
    body: str
    created_at: datetime


class ConsentRow(Strict):
    grant_id: uuid.UUID
    convention_id: uuid.UUID
    convention_title: str
    partner_name: str
    scopes: list[str]
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None


class AccessLogRow(Strict):
    at: datetime
    actor_kind: str
    actor_id: uuid.UUID | None
    partner_name: str | None
    action: str
    detail: str


class LedgerLineRow(Strict):
    """One movement on the member's account in the cooperative's journal, from the member's side:
    positive is money the cooperative owes the member (a released escrow), negative money that left
    it (a payout, a refund taken back)."""

    transaction_id: uuid.UUID
    kind: str
    memo: str
    occurred_at: datetime
    mission_id: uuid.UUID | None
    invoice_reference: str | None
    amount_minor: int
    currency: str


class InvoiceRow(Strict):
    """An invoice (or credit note) the cooperative issued for one of the member's engagements, as the
    member sees it: the buyer's name as printed, the totals, the voted contribution and the member's share."""

    id: uuid.UUID
    kind: str
    reference: str
    credited_reference: str | None
    issue_date: date
    due_date: date
    mission_id: uuid.UUID
    mission_title: str
    buyer_name: str
    description: str
    currency: str
    total_ht_minor: int
    total_vat_minor: int
    total_ttc_minor: int
    contribution_rate_bp: int
    contribution_minor: int
    member_share_minor: int


class PayoutRow(Strict):
    """A transfer to the member; the IBAN only masked (the archive never holds it whole)."""

    id: uuid.UUID
    execution_date: date
    amount_minor: int
    currency: str
    iban_masked: str
    status: str
    approved_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Section:
    """A tabular part of the vault, written as `<name>.json` and `<name>.csv`."""

    name: str
    row: type[Strict]
    title: str
    description: str
    # Rows another cooperative's archive brings are kept as read-only history and exported again.
    importable: bool = True

    @property
    def columns(self) -> tuple[str, ...]:
        return self.row.__struct_fields__


SECTIONS: tuple[Section, ...] = (
    Section("applications", ApplicationRow, "Applications", "Your applications to missions, with your message."),
    Section("engagements", EngagementRow, "Engagements", "The missions you worked on: seat, rate, dates."),
    Section("reviews_given", ReviewGivenRow, "Reviews given", "Reviews you wrote after a mission."),
    Section("reviews_received", ReviewReceivedRow, "Reviews received", "Published reviews of your work."),
    Section("assembly_attendance", AttendanceRow, "Assembly attendance", "Assemblies you attended in the room."),
    Section(
        "ballot_receipts",
        BallotReceiptRow,
        "Ballot receipts",
        "Decisions you took part in and how you voted (online, proxy, post, room); never your choice.",
    ),
    Section("proxies", ProxyRow, "Proxies", "Proxies you gave and proxies you held."),
    Section("proposal_comments", ProposalCommentRow, "Proposal comments", "What you wrote in proposals' discussions."),
    Section(
        "ledger_lines",
        LedgerLineRow,
        "Ledger lines",
        "Every movement on your account in the cooperative's journal (positive: owed to you; negative: paid out).",
    ),
    Section(
        "invoices",
        InvoiceRow,
        "Invoices",
        "Invoices and credit notes of your engagements: totals, the voted contribution and your share.",
    ),
    Section("payouts", PayoutRow, "Payouts", "Transfers to your bank account (IBAN masked)."),
    Section("consents", ConsentRow, "Consents", "Your data-sharing grants to partners, and their revocations."),
    Section(
        "access_log",
        AccessLogRow,
        "Access log",
        "Every access to your vault: exports, imports, partners' reads.",
        importable=False,
    ),
)
SECTION_BY_NAME = {section.name: section for section in SECTIONS}

# Files that describe the archive's host or the moment of the export rather than the member's data:
# a round trip (export, import elsewhere, export again) keeps every other file byte for byte.
VOLATILE_FILES = ("account.json", "index.html", "access_log.json", "access_log.csv")


class ManifestFile(Strict):
    path: str
    sha256: str
    bytes: int
    media_type: str


class Issuer(Strict):
    did: str
    url: str
    name: str


class Subject(Strict):
    id: str
    recovery_key: dict[str, Any] | None


class Manifest(Strict):
    format: str
    format_version: str
    export_id: uuid.UUID
    exported_at: datetime
    issuer: Issuer
    subject: Subject
    volatile_files: list[str]
    files: list[ManifestFile]


# -- the open formats (field names are theirs): JSON Resume, schema.org Person, the credentials' payloads ----


class ResumeLocation(Strict):
    city: str
    postalCode: str
    region: str
    countryCode: str


class ResumeProfile(Strict):
    network: str
    url: str


class ResumeBasics(Strict):
    name: str
    label: str | None = None
    email: str | None = None
    phone: str | None = None
    image: str | None = None
    summary: str | None = None
    location: ResumeLocation | None = None
    profiles: list[ResumeProfile] = []


class ResumeSkill(Strict):
    name: str
    level: str
    keywords: list[str]
    url: str | None = None  # the skill's ESCO URI


class ResumeLanguage(Strict):
    language: str
    fluency: str


class ResumeWork(Strict):
    name: str
    position: str
    summary: str
    startDate: str
    endDate: str


class ResumeMeta(Strict):
    version: str
    canonical: str


class Resume(Strict):
    """JSON Resume 1.0 (the subset this cooperative writes; the upstream schema allows more)."""

    schema_: str = msgspec.field(name="$schema")
    basics: ResumeBasics
    skills: list[ResumeSkill]
    languages: list[ResumeLanguage]
    meta: ResumeMeta
    work: list[ResumeWork]


class PostalAddress(Strict):
    type_: str = msgspec.field(name="@type")
    addressLocality: str
    postalCode: str
    addressRegion: str
    addressCountry: str


class DefinedTerm(Strict):
    type_: str = msgspec.field(name="@type")
    name: str
    termCode: str
    id_: str | None = msgspec.field(default=None, name="@id")  # the ESCO URI
    inDefinedTermSet: str | None = None


class Person(Strict):
    """schema.org Person, JSON-LD."""

    context: str = msgspec.field(name="@context")
    type_: str = msgspec.field(name="@type")
    name: str
    jobTitle: str | None = None
    description: str | None = None
    email: str | None = None
    address: PostalAddress | None = None
    knowsLanguage: list[str] = []
    knowsAbout: list[DefinedTerm] = []
    sameAs: list[str] = []


class CredentialIssuer(Strict):
    id: str
    name: str


class EngagementFacts(Strict):
    mission: str
    role: str
    client: str
    startDate: str
    endDate: str


class EngagementSubject(Strict):
    id: str
    name: str
    engagement: EngagementFacts


class EngagementCredential(Strict):
    """The payload of `credentials/engagement-<id>.jwt` (a W3C VC 2.0 secured as vc+jwt)."""

    context: list[str] = msgspec.field(name="@context")
    id: str
    type: list[str]
    issuer: CredentialIssuer
    validFrom: str
    name: str
    credentialSubject: EngagementSubject


class SkillTerm(Strict):
    name: str
    termCode: str
    id: str | None = None  # the ESCO URI


class SkillSubject(Strict):
    id: str
    name: str
    skill: SkillTerm
    attestations: int


class Evidence(Strict):
    id: str
    type: list[str]
    name: str


class SkillCredential(Strict):
    """The payload of `credentials/skill-<slug>.jwt`."""

    context: list[str] = msgspec.field(name="@context")
    id: str
    type: list[str]
    issuer: CredentialIssuer
    validFrom: str
    name: str
    credentialSubject: SkillSubject
    evidence: list[Evidence]


# -- the JSON Schemas of docs/vault/ ------------------------------------------------------------------------

_SCHEMA_TYPES: dict[str, Any] = {
    "manifest.json": Manifest,
    "account.json": AccountFile,
    "profile.json": ProfileFile | None,
    **{f"{section.name}.json": list[section.row] for section in SECTIONS},  # type: ignore[valid-type]
    "resume.json": Resume,
    "person.jsonld": Person,
    "engagement-credential.json": EngagementCredential,
    "skill-credential.json": SkillCredential,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name in docs/vault/ -> its JSON Schema (2020-12)."""
    schemas = {}
    for name, kind in _SCHEMA_TYPES.items():
        schema = msgspec.json.schema(kind)
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:coop:vault:{FORMAT_VERSION}:{name}",
            "title": name,
            **schema,
        }
        schemas[name.rsplit(".", 1)[0] + ".schema.json"] = schema
    return schemas


def write_json_schemas(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (folder / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_json_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/vault"))
