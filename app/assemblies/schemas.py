"""Request and response bodies of the assemblies feature."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from app.core.schemas import MULTI_LINE, SINGLE_LINE, Input, ShortText

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 date-time with a time zone")]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=8_000, pattern=MULTI_LINE)]
Comment = Annotated[str, msgspec.Meta(min_length=1, max_length=5_000, pattern=MULTI_LINE)]
Description = Annotated[str, msgspec.Meta(max_length=8_000, pattern=MULTI_LINE)]
Location = Annotated[str, msgspec.Meta(max_length=500, pattern=MULTI_LINE)]
CollegeName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.'-]*$")]
OptionId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Share = Annotated[
    str,
    msgspec.Meta(
        max_length=20,
        pattern=r"^(0|1|0\.[0-9]{1,6}|1\.0{1,6}|[0-9]{1,5}/[1-9][0-9]{0,4})$",
        description="A share of votes: '1/4', '0.25', '0' or '1'",
    ),
]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2_000, pattern=r"^https?://[^\x00-\x20\x7f]+$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=SINGLE_LINE)]
ChoiceText = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=SINGLE_LINE)]
Score = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
RankedItem = ChoiceText | Annotated[list[ChoiceText], msgspec.Meta(max_length=200)]
Choice = (
    ChoiceText
    | Annotated[list[RankedItem], msgspec.Meta(max_length=200)]
    | Annotated[dict[ChoiceText, Score | ChoiceText], msgspec.Meta(max_length=200)]
    | None
)

Method = Literal[
    "motion",
    "consent",
    "single_choice",
    "approval",
    "score",
    "majority_judgment",
    "instant_runoff",
    "schulze",
    "stv",
]
Kind = Literal["ordinary", "extraordinary"]
ThresholdName = Literal["simple_majority", "absolute_majority", "two_thirds", "three_quarters", "unanimity"]
PresetName = Literal["scop_sarl", "scop_sa", "scic_sas", "cae", "association"]


# -- statutes ------------------------------------------------------------------------------------


class CollegeInput(Input):
    name: CollegeName
    weight: Share


class RulesChange(Input):
    """Statutory rules to change; a field left out (or null) is kept as it is. A quorum of '0' means none."""

    quorum: Share | None = None
    threshold: ThresholdName | None = None
    abstentions_count_as_cast: bool | None = None
    blanks_count_as_cast: bool | None = None
    proxy_cap: Annotated[int, msgspec.Meta(ge=0, le=1000)] | Literal["scop", "unlimited"] | None = None
    blank_proxies: Literal["board", "abstain", "refuse"] | None = None
    colleges: Annotated[list[CollegeInput], msgspec.Meta(max_length=20)] | None = None
    empty_college: Literal["redistribute", "abstain"] | None = None


class StatutesInput(Input):
    """Found the cooperative's voting rules on a preset of `governance/`, adjusted (before any vote)."""

    preset: PresetName
    changes: RulesChange | None = None
    initiative_cosignatures: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    initiative_route: Literal["next_assembly", "open"] | None = None
    initiative_vote_days: Annotated[int, msgspec.Meta(ge=1, le=90)] | None = None
    chair_may_close_early: bool | None = None
    chair_may_open_early: bool | None = None
    default_college: CollegeName | None = None


class CollegeAssignmentInput(Input):
    college: CollegeName | None = None


class StatutesOut(msgspec.Struct, kw_only=True):
    version: int
    document: dict[str, Any]
    reason: str
    proposal_id: uuid.UUID | None
    created_at: datetime
    contribution_rate_basis_points: int | None


class CollegeAssignmentOut(msgspec.Struct, kw_only=True):
    account_id: uuid.UUID
    college: str | None


# -- binding actions ------------------------------------------------------------------------------


class AdmitMember(Input, tag="admit_member", tag_field="type"):
    account_id: uuid.UUID
    college: CollegeName | None = None


class ExcludeMember(Input, tag="exclude_member", tag_field="type"):
    account_id: uuid.UUID


class SetContributionRate(Input, tag="set_contribution_rate", tag_field="type"):
    basis_points: Annotated[int, msgspec.Meta(ge=0, le=10_000, description="850 means 8.5 %")]


class AmendStatutes(Input, tag="amend_statutes", tag_field="type"):
    changes: RulesChange
    kind: Kind | None = None
    call: Literal["first_call", "second_call"] | None = None


Action = AdmitMember | ExcludeMember | SetContributionRate | AmendStatutes


# -- assemblies ------------------------------------------------------------------------------------


class DocumentLink(Input):
    title: ShortText
    url: Url


class AssemblyInput(Input):
    kind: Kind
    title: ShortText
    scheduled_at: AwareDatetime
    description: Description = ""
    location: Location = ""
    voting_opens_at: AwareDatetime | None = None
    voting_closes_at: AwareDatetime | None = None
    documents: Annotated[list[DocumentLink], msgspec.Meta(max_length=50)] = []


class SecondCallInput(Input):
    scheduled_at: AwareDatetime
    voting_opens_at: AwareDatetime | None = None
    voting_closes_at: AwareDatetime | None = None


class AttendanceInput(Input):
    account_id: uuid.UUID
    present: bool = True


class AssemblyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    title: str
    description: str
    location: str
    documents: list[dict[str, Any]]
    scheduled_at: datetime
    voting_opens_at: datetime | None
    voting_closes_at: datetime | None
    state: str
    call: int
    first_call_id: uuid.UUID | None
    rules: dict[str, Any] | None
    electorate_size: int | None
    roll_sha256: str | None
    convened_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    minutes_sha256: str | None
    agenda: list[uuid.UUID]


class AttendanceLine(msgspec.Struct, kw_only=True):
    account_id: uuid.UUID
    display_name: str
    college: str | None
    present: bool
    represented_by: uuid.UUID | None
    blank_proxy: bool
    voted_online: bool
    postal: bool


class AttendanceSheet(msgspec.Struct, kw_only=True):
    assembly_id: uuid.UUID
    electorate_size: int
    present: int
    represented: int
    voted_online: int
    postal: int
    lines: list[AttendanceLine]


class MinutesOut(msgspec.Struct, kw_only=True):
    assembly_id: uuid.UUID
    sha256: str
    markdown: str
    html: str


class MailRecord(msgspec.Struct, kw_only=True):
    kind: str
    account_id: uuid.UUID | None
    to_email: str
    subject: str
    body_sha256: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int


# -- proposals -------------------------------------------------------------------------------------


class OptionInput(Input):
    id: OptionId
    label: ShortText


class AgendaProposalInput(Input):
    """A proposal the board puts on an assembly's agenda (its voting window is the assembly's)."""

    title: ShortText
    text: LongText
    method: Method = "motion"
    options: Annotated[list[OptionInput], msgspec.Meta(max_length=200)] = []
    seats: Annotated[int, msgspec.Meta(ge=1, le=200)] = 1
    secret: bool = True
    results_visible: bool = False
    board_approved: bool = False
    action: Action | None = None


class ProposalInput(AgendaProposalInput, kw_only=True):
    """A decision between assemblies (administrators) or a member's initiative (co-signatures first).

    `closes_at` is when the vote closes; an initiative put on an assembly's agenda takes the
    assembly's voting window instead.
    """

    closes_at: AwareDatetime
    opens_at: AwareDatetime | None = None
    kind: Kind = "ordinary"


class CommentInput(Input):
    body: Comment


class ProxyInput(Input):
    holder_id: uuid.UUID | None = None


class BallotInput(Input):
    """`choice` depends on the method: motion 'yes'/'no'/'abstain'/'blank'; consent 'agree'/'abstain'/
    'disagree'/'block'; single choice an option id; approval a list of option ids; score and majority
    judgment an object option -> score or grade; ranked methods a list, most preferred first. `null` is
    a blank ballot. A proxy holder names the member they vote for in `on_behalf_of`."""

    choice: Choice
    reason: Reason | None = None
    on_behalf_of: uuid.UUID | None = None


class PaperBallotInput(Input):
    """A postal or in-room ballot recorded by the chair. It replaces a proxy ballot (in person beats
    proxy); it replaces the member's own ballot only as an explicit `correction`, whose note is
    logged and mailed to the member."""

    voter_id: uuid.UUID
    channel: Literal["postal", "room"]
    choice: Choice
    reason: Reason | None = None
    correction: Reason | None = None


KeyText = Annotated[str, msgspec.Meta(min_length=43, max_length=44, pattern=r"^[A-Za-z0-9_-]+={0,1}$")]
ShareText = Annotated[str, msgspec.Meta(min_length=1, max_length=400, pattern=SINGLE_LINE)]


class TrusteeKeyInput(Input):
    """A scrutineer's X25519 public key, base64url (`coop trustee keygen` makes the pair)."""

    public_key: KeyText


class BureauInput(Input):
    """The scrutineers who share the election key of the assembly's secret votes: any `threshold` of
    them, together, can count; fewer cannot, and neither can the server."""

    trustees: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)]  # none: the server holds the key
    threshold: Annotated[int, msgspec.Meta(ge=1, le=20)]


class BureauOut(msgspec.Struct, kw_only=True):
    assembly_id: uuid.UUID
    trustees: list[uuid.UUID]
    threshold: int | None


class KeyShareOut(msgspec.Struct, kw_only=True):
    """Your share of a vote's election key, encrypted to your key: open it on your own machine with
    `coop trustee open-share --key YOUR_KEY_FILE`, then bring the result to the count."""

    proposal_id: uuid.UUID
    trustee_id: uuid.UUID
    x: int
    threshold: int
    encrypted_share: str


class CountInput(Input):
    shares: Annotated[list[ShareText], msgspec.Meta(max_length=20)]


class ProposalOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    assembly_id: uuid.UUID | None
    agenda_position: int | None
    kind: str
    title: str
    text: str
    method: str
    options: list[dict[str, Any]]
    settings: dict[str, Any]
    rules: dict[str, Any] | None
    secret: bool
    results_visible: bool
    state: str
    initiative: bool
    author_id: uuid.UUID | None
    cosignatures: int
    cosignatures_needed: int | None
    action: dict[str, Any] | None
    opens_at: datetime | None
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    electorate_size: int | None
    roll_sha256: str | None
    outcome: str | None
    certificate_sha256: str | None
    box_sha256: str | None
    action_applied_at: datetime | None


class Receipt(msgspec.Struct, kw_only=True):
    """Keep it: at the close, find `tracker` in the published box (`GET .../box`)."""

    proposal_id: uuid.UUID
    voter_id: uuid.UUID
    channel: str
    tracker: str
    cast_at: datetime
    order: int  # the database's order of accepted ballots: your receipt with the highest is the one that counts
    signature: str


class MyBallot(msgspec.Struct, kw_only=True):
    proposal_id: uuid.UUID
    in_electorate: bool
    voted: bool
    channel: str | None
    cast_by: uuid.UUID | None
    cast_at: datetime | None
    proxies_held: list[uuid.UUID]
    voted_for: list[uuid.UUID]


class Participation(msgspec.Struct, kw_only=True):
    proposal_id: uuid.UUID
    state: str
    electorate_size: int | None
    voted: int
    by_channel: dict[str, int]
    closes_at: datetime | None


class ResultOut(msgspec.Struct, kw_only=True):
    proposal_id: uuid.UUID
    state: str
    final: bool
    outcome: str | None
    result: dict[str, Any] | None
    explanation: str | None
    attendance: dict[str, Any] | None
    certificate_sha256: str | None
    box_sha256: str | None


class BoxOut(msgspec.Struct, kw_only=True):
    """A `python -m governance tally` input: anonymous for secret ballots, named for public ones."""

    proposal_id: uuid.UUID
    secret: bool
    sha256: str
    rules: dict[str, Any]
    electorate: list[dict[str, Any]]
    ballots: list[dict[str, Any]]
    proxies: list[dict[str, Any]]


class CommentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    proposal_id: uuid.UUID
    author_id: uuid.UUID
    author_name: str
    body: str
    created_at: datetime


class ProxyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    assembly_id: uuid.UUID | None
    proposal_id: uuid.UUID | None
    principal_id: uuid.UUID
    holder_id: uuid.UUID | None
    created_at: datetime
