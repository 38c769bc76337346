"""Erasure (GDPR Art. 17): delete the member's personal data everywhere, destroy their data key, keep
pseudonymously what the law or the cooperative's decisions require, and hand over a signed certificate.

What is destroyed: the account's name, email and password (the row stays under a pseudonymous id,
because engagements, ballots and the audit chain point to it), sessions and tokens, sign-in
identities, the profile, the texts of applications, reviews, questions and comments, governance mails,
every vault row (imports, credentials, grants, receipts, exports, the access log, the recovery key)
and, last, the member's data key, so that any copy of their encrypted data (a backup of the vault's rows,
or of the applications' messages, reviews, questions and proposal comments they wrote, and of their
IBAN and account holder's name, sealed under it) is noise.
What is kept is listed in the certificate with its reason and its end. Payments: the member's IBAN and
holder name are deleted (and, sealed under the member's data key, shredded in backups too); invoices,
journal entries and payout lines are kept ten years under the member's pseudonymous id (they hold no
name), and the stored copies of approved SEPA files name the member's transfers "Erased member" with the
IBAN replaced by a placeholder keeping its country and last four characters (with the end-to-end id,
amount and date, what matches the bank statement).

Nothing here knows HTTP; nothing here commits.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.accounts.passwords import Passwords
from app.core.errors import AppError, Conflict, NotFound
from app.db.transaction import UnitOfWork
from app.members.service import query_words
from app.models import Account, VaultErasure
from app.vault.credentials import VaultSigner, canonical_json, iso
from app.vault.repository import VaultRepository


class ReauthenticationFailed(AppError):
    status_code = 403
    slug = "reauthentication-failed"
    title = "Confirm the erasure with your password first (set one through the password-reset mail if need be)"


CONFIRMATION_TTL = timedelta(minutes=10)
CONFIRMATION_TYPE = "coop-erasure-confirmation+jws"
ACCOUNTING_YEARS = 10  # Code de commerce, art. L123-22: accounting records and their evidence


ACCOUNTING_LAW = (
    "accounting records and their evidence, ten years (Code de commerce L123-22); invoices, six years for "
    "the tax administration (Livre des procédures fiscales L102 B): the longer term applies"
)
ERASED_CREDITOR = "Erased member"
# One transfer of a pain.001 file as `sepaxml` writes it (no whitespace between elements).
_TRANSFER = re.compile(r"<CdtTrfTxInf><PmtId><EndToEndId>([0-9a-f]{32})</EndToEndId>.*?</CdtTrfTxInf>", re.S)


def pseudonymised_transfers(sepa_xml: str, end_to_end_ids: set[str]) -> tuple[str, int]:
    """The SEPA file with the member's transfers naming no one: the creditor's name replaced, their IBAN
    replaced by its country, `00`, `ERASED` and its last four characters (still the schema's IBAN pattern).
    Returns the file and how many transfers were rewritten."""
    count = 0

    def rewrite(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1) not in end_to_end_ids:
            return match.group(0)
        count += 1
        block = re.sub(r"<Cdtr><Nm>[^<]*</Nm>", f"<Cdtr><Nm>{ERASED_CREDITOR}</Nm>", match.group(0))
        return re.sub(
            r"<CdtrAcct><Id><IBAN>([A-Z]{2})[0-9A-Za-z]*([0-9A-Za-z]{4})</IBAN>",
            r"<CdtrAcct><Id><IBAN>\g<1>00ERASED\g<2></IBAN>",
            block,
        )

    return _TRANSFER.sub(rewrite, sepa_xml), count


def _end_of_year_after(day: date, years: int) -> str:
    """Accounting terms run from the close of the financial year (taken as the calendar year)."""
    return date(day.year + years, 12, 31).isoformat()


def _years_after(day: date, years: int) -> str:
    try:
        return day.replace(year=day.year + years).isoformat()
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28).isoformat()


class ErasureService:
    def __init__(self, unit_of_work: UnitOfWork, *, signer: VaultSigner, passwords: Passwords) -> None:
        self.repository = VaultRepository(unit_of_work.session)
        self.signer = signer
        self.passwords = passwords

    async def confirmation(self, member: Account, password: str) -> tuple[str, datetime]:
        """A short-lived, signed confirmation, given for the member's password: an erasure cannot be
        undone, so a stolen access token alone is not enough to ask for one."""
        account = await self.repository.account(member.id)
        if account is None:
            raise NotFound()
        if not await self.passwords.verify(account.password_hash, password):
            raise ReauthenticationFailed()
        expires_at = datetime.now(UTC) + CONFIRMATION_TTL
        payload = canonical_json({"sub": str(member.id), "exp": int(expires_at.timestamp()), "purpose": "erasure"})
        return self.signer.sign(payload, CONFIRMATION_TYPE), expires_at

    def _confirmed(self, member: Account, confirmation: str) -> bool:
        payload = self.signer.verify_own(confirmation, CONFIRMATION_TYPE)
        if payload is None:
            return False
        try:
            claims = json.loads(payload)
        except ValueError:
            return False
        return (
            claims.get("sub") == str(member.id)
            and claims.get("purpose") == "erasure"
            and isinstance(claims.get("exp"), int)
            and claims["exp"] > datetime.now(UTC).timestamp()
        )

    async def erase(self, member: Account, confirmation: str) -> dict[str, Any]:
        if not self._confirmed(member, confirmation):
            raise ReauthenticationFailed("Ask for a confirmation with your password first; it lasts ten minutes.")
        account = await self.repository.account(member.id)
        if account is None:
            raise NotFound()
        if account.email.endswith("@erased.invalid"):
            raise Conflict("This member's data is already erased.")
        requested_at = datetime.now(UTC)
        names = [account.display_name]
        profile_name = await self._profile_name(member.id)
        if profile_name:
            names.append(profile_name)
        kept = await self.repository.kept_records(member.id)
        vault = await self.repository.erase_vault_rows(member.id)
        scrubbed = await self.repository.erase_across_features(member.id, account.email)
        transfers = 0
        for run in await self.repository.payout_files(member.id):
            sepa_xml, rewritten = pseudonymised_transfers(run["sepa_xml"], {line.hex for line in run["line_ids"]})
            if rewritten:
                await self.repository.replace_payout_file(run["id"], sepa_xml)
                transfers += rewritten
        if transfers:
            scrubbed.append(("your name and IBAN in the stored SEPA transfer files", "payout_run", transfers))
        words = sorted({word for name in names for word in query_words(name)})
        forgotten = await self.repository.forget_words(words)
        # The ORM's copy of the row still holds the old values: it must not be written back.
        await self.repository.session.refresh(account)

        destroyed = [{"what": what, "where": table, "rows": rows} for what, table, rows in scrubbed if rows]
        destroyed.append(
            {"what": "words of the member's name in the search vocabulary", "where": "search_word", "rows": forgotten}
        )
        destroyed.append(
            {
                "what": "the member's data key (AES-256-GCM): every copy of what was sealed under it (the vault's "
                "rows, applications' messages, reviews and questions you wrote, proposal comments, your IBAN and "
                "account holder name), backups included, is unreadable",
                "where": "vault_member_key",
                "rows": vault.pop("vault_member_key", 0),
            }
        )
        destroyed.extend(
            {"what": f"vault: {table.removeprefix('vault_').replace('_', ' ')}", "where": table, "rows": rows}
            for table, rows in vault.items()
            if rows
        )
        certificate: dict[str, Any] = {
            "type": "coop-erasure-certificate",
            "id": f"urn:uuid:{uuid.uuid4()}",
            "subject": f"urn:uuid:{member.id}",
            "controller": {"name": self.signer.name, "id": self.signer.did, "url": self.signer.url},
            "requested_at": iso(requested_at),
            "completed_at": iso(datetime.now(UTC)),
            "legal_basis": "GDPR Art. 17 (right to erasure), Art. 17(3)(b) and (e) for what is kept",
            "destroyed": destroyed,
            "kept": self._kept(kept, requested_at.date()),
            "note": (
                "Kept records name you only by the identifier above, which no longer leads to your name, "
                "email or profile. Backups taken before today expire on their own schedule; your vault data in "
                "them is encrypted under the key destroyed today."
            ),
        }
        certificate["proof"] = self.signer.sign(canonical_json(certificate), "coop-erasure-certificate+jws")
        await self.repository.add_erasure(VaultErasure(pseudonym=certificate["subject"], certificate=certificate))
        return certificate

    async def _profile_name(self, member_id: uuid.UUID) -> str | None:
        return await self.repository.profile_display_name(member_id)

    @staticmethod
    def _kept(kept: dict[str, Any], today: date) -> list[dict[str, Any]]:
        entries = []
        if kept["engagements"]:
            last = kept["last_engagement"] or today
            entries.append(
                {
                    "what": f"{kept['engagements']} engagements (mission, seat, day rate, dates) and their applications"
                    " without their messages",
                    "why": "evidence of the invoices and accounting of those missions (Code de commerce L123-22)",
                    "until": _years_after(max(last, today), ACCOUNTING_YEARS),
                    "form": "pseudonymous",
                }
            )
        if kept["invoices"]:
            last = kept["last_invoice"] or today
            entries.append(
                {
                    "what": f"{kept['invoices']} invoices and credit notes of your engagements (lines, totals, "
                    "the buyer, the contribution), naming you only by the identifier above",
                    "why": ACCOUNTING_LAW,
                    "until": _end_of_year_after(max(last, today), ACCOUNTING_YEARS),
                    "form": "pseudonymous",
                }
            )
        if kept["ledger_entries"] or kept["payouts"]:
            last = kept["last_ledger_entry"] or today
            entries.append(
                {
                    "what": f"{kept['ledger_entries']} entries of the cooperative's journal on your account and "
                    f"{kept['payouts']} payouts (amount, date, the IBAN's last four characters); the stored SEPA "
                    f"files name your transfers '{ERASED_CREDITOR}'",
                    "why": ACCOUNTING_LAW,
                    "until": _end_of_year_after(max(last, today), ACCOUNTING_YEARS),
                    "form": "pseudonymous",
                }
            )
        if kept["reviews"]:
            entries.append(
                {
                    "what": f"{kept['reviews']} review ratings, without their texts",
                    "why": "the other party's own record of the mission",
                    "until": "the other party's erasure",
                    "form": "pseudonymous",
                }
            )
        governance = kept["ballots"] + kept["proxies"] + kept["rolls"] + kept["audit_events"]
        if governance:
            entries.append(
                {
                    "what": f"{kept['ballots']} entries of ballot registers (that you voted and how: online, proxy, "
                    f"post, room; never what), {kept['proxies']} proxies, {kept['rolls']} frozen electoral rolls, "
                    f"{kept['audit_events']} governance audit events",
                    "why": "the validity of the cooperative's decisions and its tamper-evident audit chain",
                    "until": "the life of the cooperative (its register of decisions)",
                    "form": "pseudonymous",
                }
            )
        if kept["attendance_sheets"]:
            entries.append(
                {
                    "what": f"{kept['attendance_sheets']} attendance sheets and minutes of general assemblies that "
                    "name you as you were named then",
                    "why": "the legal register of the assemblies' minutes",
                    "until": "the life of the cooperative",
                    "form": "as signed",
                }
            )
        return entries
