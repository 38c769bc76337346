"""Every SQL statement of the vault feature.

The vault's own tables are read and written here. Other features' tables are read, with the member's
rows streamed in batches (server-side cursors) so an export of any size runs in constant memory.
Imports change other features through their services. The one exception is erasure (`ERASURE_SQL`):
the statements that scrub a member's personal data from every feature's tables are listed in one
place, so the erasure certificate says exactly what ran; when a feature gains an erase operation of
its own, the vault calls it instead.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Account,
    VaultAccessLog,
    VaultConsentReceipt,
    VaultConvention,
    VaultCredential,
    VaultErasure,
    VaultExport,
    VaultGrant,
    VaultImport,
    VaultMemberKey,
    VaultPartner,
    VaultPartnerToken,
    VaultRecord,
    VaultRecoveryKey,
    VaultTrustedIssuer,
)

BATCH = 500

# One statement per section of the archive: the member's rows, oldest first, as the row struct's fields.
SECTION_SQL: dict[str, str] = {
    "applications": """
        select a.id, a.mission_id, m.title as mission_title, s.title as seat_title, a.message,
               a.proposed_day_rate_minor, a.status, a.created_at, a.decided_at
        from application a join mission m on m.id = a.mission_id join mission_seat s on s.id = a.seat_id
        where a.member_id = :member order by a.created_at, a.id""",
    "engagements": """
        select e.id, e.mission_id, m.title as mission_title, s.title as seat_title,
               coalesce(o.legal_name, m.client_name, '') as client_name, e.day_rate_minor, e.days, m.currency,
               e.starts_on, e.ends_on, m.status as mission_status, m.delivered_at, e.created_at
        from engagement e join mission m on m.id = e.mission_id join mission_seat s on s.id = e.seat_id
        left join client_organisation o on o.id = m.client_organisation_id
        where e.member_id = :member order by e.created_at, e.id""",
    "reviews_given": """
        select r.id, r.mission_id, m.title as mission_title, r.subject_id, r.rating, r.text,
               array(select k.slug from skill k where k.id = any(r.skills_seen) order by k.slug) as skills_seen,
               r.created_at, r.published_at
        from review r join mission m on m.id = r.mission_id
        where r.author_id = :member order by r.created_at, r.id""",
    # Unpublished reviews of the member stay sealed until their counterpart (or the delay) releases them.
    "reviews_received": """
        select r.id, r.mission_id, m.title as mission_title, r.author_id, r.rating, r.text,
               array(select k.slug from skill k where k.id = any(r.skills_seen) order by k.slug) as skills_seen,
               r.created_at, r.published_at
        from review r join mission m on m.id = r.mission_id
        where r.subject_id = :member and r.published_at is not null order by r.created_at, r.id""",
    "assembly_attendance": """
        select t.assembly_id, a.title as assembly_title, t.present, t.recorded_at
        from attendance t join assembly a on a.id = t.assembly_id
        where t.account_id = :member order by t.recorded_at, t.assembly_id""",
    # The register only: who voted and how. The box (what was voted) shares no key with it.
    "ballot_receipts": """
        select b.proposal_id, p.title as proposal_title, p.assembly_id, b.channel,
               (b.cast_by is null or b.cast_by = b.voter_id) as cast_by_self, b.cast_at, b.changes
        from ballot_register b join proposal p on p.id = b.proposal_id
        where b.voter_id = :member order by b.cast_at, b.proposal_id""",
    "proxies": """
        select x.id, case when x.principal_id = :member then 'given' else 'held' end as role,
               x.assembly_id, x.proposal_id, x.principal_id, x.holder_id, x.created_at, x.revoked_at
        from proxy x where x.principal_id = :member or x.holder_id = :member order by x.created_at, x.id""",
    "proposal_comments": """
        select c.id, c.proposal_id, p.title as proposal_title, c.body, c.created_at
        from proposal_comment c join proposal p on p.id = c.proposal_id
        where c.author_id = :member order by c.created_at, c.id""",
    # Payments: the member's own account in the journal (kept in euros), shown from the member's side.
    "ledger_lines": """
        select t.id as transaction_id, t.kind, t.memo, t.occurred_at, t.mission_id,
               i.reference as invoice_reference, -e.amount_minor as amount_minor, 'EUR' as currency
        from ledger_entry e join ledger_account a on a.id = e.account_id
        join ledger_transaction t on t.id = e.transaction_id left join invoice i on i.id = t.invoice_id
        where a.member_id = :member and a.code like 'member:%' order by t.occurred_at, e.id""",
    # What the invoice printed, no more: the buyer's name (not its registration or address), the lines'
    # descriptions, the totals; the contribution rounded half up as payments computes it.
    "invoices": """
        select i.id, i.kind, i.reference, c.reference as credited_reference, i.issue_date, i.due_date,
               i.mission_id, m.title as mission_title, coalesce(i.buyer->>'name', '') as buyer_name,
               coalesce((select string_agg(l->>'description', '; ' order by n)
                         from jsonb_array_elements(i.lines) with ordinality as x(l, n)), '') as description,
               i.currency, i.total_ht_minor, i.total_vat_minor, i.total_ttc_minor, i.contribution_rate_bp,
               floor((i.total_ht_minor * i.contribution_rate_bp + 5000)::numeric / 10000)::bigint
                 as contribution_minor,
               i.total_ht_minor - floor((i.total_ht_minor * i.contribution_rate_bp + 5000)::numeric / 10000)::bigint
                 as member_share_minor
        from invoice i join mission m on m.id = i.mission_id left join invoice c on c.id = i.credited_invoice_id
        where i.member_id = :member order by i.issue_date, i.series, i.number""",
    "payouts": """
        select l.id, r.execution_date, l.amount_minor, 'EUR' as currency,
               '**** **** **** ' || l.iban_last4 as iban_masked, l.status, r.approved_at, l.updated_at
        from payout_line l join payout_run r on r.id = l.run_id
        where l.member_id = :member order by r.execution_date, r.prepared_at, l.id""",
    "consents": """
        select g.id as grant_id, g.convention_id, c.title as convention_title, p.name as partner_name, g.scopes,
               g.expires_at, g.created_at, g.revoked_at
        from vault_grant g join vault_convention c on c.id = g.convention_id join vault_partner p on p.id = c.partner_id
        where g.account_id = :member order by g.created_at, g.id""",
    "access_log": """
        select l.at, l.actor_kind, l.actor_id, p.name as partner_name, l.action, l.detail
        from vault_access_log l left join vault_partner p on p.id = l.partner_id
        where l.account_id = :member order by l.at, l.id""",
}

# Section -> (column, table, author column) of another feature's text sealed under its author's data key
# (app.core.sealing; the row's id is the associated data), opened by the export. No author column: the
# member wrote it.
SEALED_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "applications": ("message", "application", None),
    "reviews_given": ("text", "review", None),
    "reviews_received": ("text", "review", "author_id"),
    "proposal_comments": ("body", "proposal_comment", None),
}

ERASED = "[erased]"

# (what, table, statement): each scrubs or deletes one kind of the member's personal data.
ERASURE_SQL: tuple[tuple[str, str, str], ...] = (
    (
        "name, email address, password and verified address",
        "account",
        """update account set email = 'erased-' || replace(id::text, '-', '') || '@erased.invalid',
               display_name = 'Erased member', password_hash = null, email_verified_at = null,
               disabled_at = coalesce(disabled_at, now())
           where id = :member""",
    ),
    (
        "signed-in sessions and their refresh tokens",
        "auth_session",
        "delete from auth_session where account_id = :member",
    ),
    ("one-time email tokens", "email_token", "delete from email_token where account_id = :member"),
    ("identities at sign-in providers", "oidc_identity", "delete from oidc_identity where account_id = :member"),
    (
        "profile, skills, availability and attestations",
        "member_profile",
        "delete from member_profile where account_id = :member",
    ),
    (
        "messages of applications",
        "application",
        "update application set message = :erased where member_id = :member",
    ),
    (
        "texts of reviews written by and about the member",
        "review",
        "update review set text = :erased where author_id = :member or subject_id = :member",
    ),
    (
        "questions asked on missions",
        "mission_question",
        "update mission_question set body = :erased where author_id = :member",
    ),
    (
        "comments on proposals (sealed under your data key)",
        "proposal_comment",
        "update proposal_comment set body = :erased where author_id = :member",
    ),
    (
        "IBAN and account holder name (sealed under your data key)",
        "member_bank_account",
        "delete from member_bank_account where member_id = :member",
    ),
    (
        "governance mails addressed to the member (address, name)",
        "mail_outbox",
        "delete from mail_outbox where account_id = :member or to_email = :email",
    ),
)

# Words the member's name taught the search vocabulary, unless another text still uses them.
FORGET_WORDS_SQL = r"""
    delete from search_word w where w.word = any(:words)
    and not exists (
        select 1 from member_profile p
        where coop_unaccent(lower(p.display_name || ' ' || p.headline || ' ' || p.bio || ' ' || p.city))
              ~ ('\m' || w.word || '\M'))
    and not exists (
        select 1 from mission m
        where coop_unaccent(lower(m.title || ' ' || m.description || ' ' || m.city)) ~ ('\m' || w.word || '\M'))
"""


class VaultRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # -- rows of the archive (read-only over the other features' tables) ------------------------------------

    async def stream_section(self, section: str, member_id: uuid.UUID) -> AsyncIterator[Sequence[Any]]:
        """The member's rows of one section, in batches (a server-side cursor: constant memory)."""
        result = await self.session.stream(
            text(SECTION_SQL[section]).execution_options(yield_per=BATCH), {"member": member_id}
        )
        async for batch in result.mappings().partitions(BATCH):
            yield batch

    async def stream_records(self, member_id: uuid.UUID, section: str) -> AsyncIterator[Sequence[VaultRecord]]:
        statement = (
            select(VaultRecord)
            .where(VaultRecord.account_id == member_id, VaultRecord.section == section)
            .order_by(VaultRecord.position)
            .execution_options(yield_per=BATCH)
        )
        result = await self.session.stream_scalars(statement)
        async for batch in result.partitions(BATCH):
            yield batch

    async def skill_evidence(self, member_id: uuid.UUID) -> list[Any]:
        """Attested skills and the missions (and reviews) that attested them."""
        rows = await self.session.execute(
            text(
                """
                select k.slug, k.name, k.esco_uri, a.mission_id, m.title as mission_title, a.review_id,
                       a.created_at
                from skill_attestation a join skill k on k.id = a.skill_id join mission m on m.id = a.mission_id
                where a.profile_id = :member order by k.slug, a.created_at, a.id"""
            ),
            {"member": member_id},
        )
        return list(rows.mappings())

    async def skills_by_slug(self, slugs: Sequence[str]) -> dict[str, uuid.UUID]:
        rows = await self.session.execute(
            text("select slug, coalesce(merged_into_id, id) as id from skill where slug = any(:slugs)"),
            {"slugs": list(slugs)},
        )
        return {row.slug: row.id for row in rows}

    async def profile_display_name(self, account_id: uuid.UUID) -> str | None:
        return await self.session.scalar(
            text("select display_name from member_profile where account_id = :member"), {"member": account_id}
        )

    async def account(self, account_id: uuid.UUID) -> Account | None:
        return await self.session.get(Account, account_id)

    # -- keys --------------------------------------------------------------------------------------------------

    async def member_key(self, account_id: uuid.UUID, *, lock: bool = False) -> VaultMemberKey | None:
        statement = select(VaultMemberKey).where(VaultMemberKey.account_id == account_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def member_keys_below(self, version: int, limit: int) -> Sequence[VaultMemberKey]:
        statement = (
            select(VaultMemberKey)
            .where(VaultMemberKey.master_version < version)
            .order_by(VaultMemberKey.account_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def recovery_key(self, account_id: uuid.UUID) -> VaultRecoveryKey | None:
        return await self.session.get(VaultRecoveryKey, account_id)

    # -- exports and imports -------------------------------------------------------------------------------------

    async def export(self, export_id: uuid.UUID) -> VaultExport | None:
        return await self.session.get(VaultExport, export_id)

    async def exports(self, account_id: uuid.UUID) -> Sequence[VaultExport]:
        statement = (
            select(VaultExport).where(VaultExport.account_id == account_id).order_by(VaultExport.requested_at.desc())
        )
        return (await self.session.execute(statement.limit(100))).scalars().all()

    async def count_downloads(self, export_id: uuid.UUID) -> None:
        await self.session.execute(
            update(VaultExport).where(VaultExport.id == export_id).values(downloads=VaultExport.downloads + 1)
        )

    async def imports(self, account_id: uuid.UUID) -> Sequence[VaultImport]:
        statement = select(VaultImport).where(VaultImport.account_id == account_id).order_by(VaultImport.imported_at)
        return (await self.session.execute(statement)).scalars().all()

    async def credentials(self, account_id: uuid.UUID) -> Sequence[VaultCredential]:
        statement = (
            select(VaultCredential).where(VaultCredential.account_id == account_id).order_by(VaultCredential.file_name)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def add_records(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert of imported history (one statement per batch, no ORM objects per row)."""
        for start in range(0, len(rows), 1000):
            await self.session.execute(VaultRecord.__table__.insert(), list(rows[start : start + 1000]))  # type: ignore[attr-defined]

    # -- trusted issuers ----------------------------------------------------------------------------------------

    async def trusted_issuers(self) -> Sequence[VaultTrustedIssuer]:
        return (await self.session.execute(select(VaultTrustedIssuer).order_by(VaultTrustedIssuer.did))).scalars().all()

    async def trusted_issuer(self, issuer_id: uuid.UUID) -> VaultTrustedIssuer | None:
        return await self.session.get(VaultTrustedIssuer, issuer_id)

    async def trusted_issuer_by_did(self, did: str) -> VaultTrustedIssuer | None:
        statement = select(VaultTrustedIssuer).where(VaultTrustedIssuer.did == did)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def delete_trusted_issuer(self, issuer: VaultTrustedIssuer) -> None:
        await self.session.delete(issuer)
        await self.session.flush()

    # -- the access log -----------------------------------------------------------------------------------------

    async def log_access(
        self,
        account_id: uuid.UUID,
        *,
        actor_kind: str,
        action: str,
        actor_id: uuid.UUID | None = None,
        partner_id: uuid.UUID | None = None,
        detail: str = "",
    ) -> None:
        await self.add(
            VaultAccessLog(
                account_id=account_id,
                actor_kind=actor_kind,
                actor_id=actor_id,
                partner_id=partner_id,
                action=action,
                detail=detail[:300],
            )
        )

    async def access_log(self, account_id: uuid.UUID, *, limit: int, offset: int) -> tuple[list[Any], int]:
        rows = await self.session.execute(
            text(
                SECTION_SQL["access_log"].replace(
                    "order by l.at, l.id", "order by l.at desc, l.id desc limit :limit offset :offset"
                )
            ),
            {"member": account_id, "limit": limit, "offset": offset},
        )
        total = await self.session.scalar(
            select(func.count()).select_from(VaultAccessLog).where(VaultAccessLog.account_id == account_id)
        )
        return list(rows.mappings()), int(total or 0)

    # -- partners, conventions, grants, receipts, tokens ---------------------------------------------------------

    async def partner(self, partner_id: uuid.UUID) -> VaultPartner | None:
        return await self.session.get(VaultPartner, partner_id)

    async def partner_by_client_id(self, client_id: str) -> VaultPartner | None:
        statement = select(VaultPartner).where(VaultPartner.client_id == client_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def partners(self) -> Sequence[VaultPartner]:
        return (await self.session.execute(select(VaultPartner).order_by(VaultPartner.name))).scalars().all()

    async def convention(self, convention_id: uuid.UUID) -> VaultConvention | None:
        return await self.session.get(VaultConvention, convention_id)

    async def conventions(self) -> Sequence[tuple[VaultConvention, VaultPartner]]:
        statement = (
            select(VaultConvention, VaultPartner)
            .join(VaultPartner, VaultPartner.id == VaultConvention.partner_id)
            .order_by(VaultConvention.starts_on, VaultConvention.id)
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def grant(self, grant_id: uuid.UUID) -> VaultGrant | None:
        return await self.session.get(VaultGrant, grant_id)

    async def grants(self, account_id: uuid.UUID) -> Sequence[VaultGrant]:
        statement = select(VaultGrant).where(VaultGrant.account_id == account_id).order_by(VaultGrant.created_at)
        return (await self.session.execute(statement)).scalars().all()

    async def active_grant(self, account_id: uuid.UUID, convention_id: uuid.UUID, now: datetime) -> VaultGrant | None:
        statement = (
            select(VaultGrant)
            .where(
                VaultGrant.account_id == account_id,
                VaultGrant.convention_id == convention_id,
                VaultGrant.revoked_at.is_(None),  # type: ignore[union-attr]
                VaultGrant.expires_at > now,
            )
            .order_by(VaultGrant.created_at.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def receipts(self, account_id: uuid.UUID) -> Sequence[VaultConsentReceipt]:
        statement = (
            select(VaultConsentReceipt)
            .where(VaultConsentReceipt.account_id == account_id)
            .order_by(VaultConsentReceipt.created_at, VaultConsentReceipt.id)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def partner_token(self, token_hash: bytes) -> VaultPartnerToken | None:
        statement = select(VaultPartnerToken).where(VaultPartnerToken.token_hash == token_hash)
        return (await self.session.execute(statement)).scalar_one_or_none()

    # -- erasure ----------------------------------------------------------------------------------------------------

    async def erase_vault_rows(self, account_id: uuid.UUID) -> dict[str, int]:
        """Deletes every vault row about the member (their key last); returns the counts per table."""
        counts: dict[str, int] = {}
        for table in (
            VaultRecord,
            VaultCredential,
            VaultImport,
            VaultConsentReceipt,
            VaultGrant,
            VaultAccessLog,
            VaultExport,
            VaultRecoveryKey,
            VaultMemberKey,
        ):
            result = await self.session.execute(delete(table).where(table.account_id == account_id))  # type: ignore[attr-defined]
            counts[table.__tablename__] = result.rowcount  # type: ignore[attr-defined]
        return counts

    async def add_erasure(self, erasure: VaultErasure) -> None:
        await self.add(erasure)

    async def erase_across_features(self, member_id: uuid.UUID, email: str) -> list[tuple[str, str, int]]:
        done = []
        for what, table, statement in ERASURE_SQL:
            result = await self.session.execute(
                text(statement), {"member": member_id, "email": email, "erased": ERASED}
            )
            done.append((what, table, int(result.rowcount or 0)))  # type: ignore[attr-defined]
        return done

    async def payout_files(self, member_id: uuid.UUID) -> list[Any]:
        """Approved payout runs paying the member: their SEPA file and the member's lines in it."""
        rows = await self.session.execute(
            text(
                """
                select r.id, r.sepa_xml, array_agg(l.id order by l.id) as line_ids
                from payout_run r join payout_line l on l.run_id = r.id
                where l.member_id = :member and r.sepa_xml is not null group by r.id order by r.id"""
            ),
            {"member": member_id},
        )
        return list(rows.mappings())

    async def replace_payout_file(self, run_id: uuid.UUID, sepa_xml: str) -> None:
        await self.session.execute(
            text("update payout_run set sepa_xml = :xml where id = :run"), {"xml": sepa_xml, "run": run_id}
        )

    async def forget_words(self, words: Sequence[str]) -> int:
        if not words:
            return 0
        result = await self.session.execute(text(FORGET_WORDS_SQL), {"words": list(words)})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def kept_records(self, member_id: uuid.UUID) -> dict[str, Any]:
        """What stays, pseudonymous, once the member is erased: counts and the latest dates."""
        row = await self.session.execute(
            text(
                """
                select
                  (select count(*) from engagement where member_id = :member) as engagements,
                  (select max(ends_on) from engagement where member_id = :member) as last_engagement,
                  (select count(*) from application where member_id = :member) as applications,
                  (select count(*) from review where author_id = :member or subject_id = :member) as reviews,
                  (select count(*) from ballot_register where voter_id = :member) as ballots,
                  (select count(*) from proxy where principal_id = :member or holder_id = :member) as proxies,
                  (select count(*) from electorate_member where account_id = :member) as rolls,
                  (select count(*) from audit_event where actor_id = :member) as audit_events,
                  (select count(*) from proposal where attendance::text like '%' || :member_text || '%')
                    as attendance_sheets,
                  (select count(*) from invoice where member_id = :member) as invoices,
                  (select max(issue_date) from invoice where member_id = :member) as last_invoice,
                  (select count(*) from ledger_entry e join ledger_account a on a.id = e.account_id
                    where a.member_id = :member) as ledger_entries,
                  (select max(t.occurred_at)::date from ledger_entry e join ledger_account a on a.id = e.account_id
                    join ledger_transaction t on t.id = e.transaction_id where a.member_id = :member)
                    as last_ledger_entry,
                  (select count(*) from payout_line where member_id = :member) as payouts"""
            ),
            {"member": member_id, "member_text": str(member_id)},
        )
        return dict(row.mappings().one())
