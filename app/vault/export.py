"""Builds a member's archive as a stream of zip bytes, in constant memory.

Order of the entries: account, profile (native, JSON Resume, schema.org Person), one JSON and one CSV
file per tabular section (native rows, then the read-only history an import brought), the credentials
(issued now by this cooperative for completed engagements and attested skills, then those issued
elsewhere, byte for byte), `index.html`, and last `manifest.json` with `manifest.jws`, its signature.
Nothing is held in memory beyond one batch of rows and one compressed chunk.

It reads through the vault's repository and the members service; it never writes.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from app.core.errors import NotFound
from app.core.sealing import MemberKeyRing, open_text
from app.db.transaction import UnitOfWork
from app.members.service import MemberService, ProfileView
from app.models import Account
from app.vault import records
from app.vault.archive import ArchiveWriter
from app.vault.credentials import VC_CONTEXT, VaultSigner, canonical_json, iso
from app.vault.crypto import DataKey, MasterKeys
from app.vault.records import SECTIONS, Section
from app.vault.repository import SEALED_COLUMNS, VaultRepository

ESCO = "https://esco.ec.europa.eu/"
JSON_RESUME_SCHEMA = "https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json"
COMPLETED = ("delivered", "closed")
LEVELS = {1: "Beginner", 2: "Intermediate", 3: "Autonomous", 4: "Advanced", 5: "Expert"}
# The level the members feature gives a skill seen at work but never declared.
ATTESTED_ONLY_LEVEL = 3
_encoder = msgspec.json.Encoder()


def _padded(segment: bytes) -> bytes:
    return segment + b"=" * (-len(segment) % 4)


def subject_id(account_id: uuid.UUID) -> str:
    return f"urn:uuid:{account_id}"


def profile_file(view: ProfileView | None) -> records.ProfileFile | None:
    if view is None:
        return None
    p = view.profile
    return records.ProfileFile(
        display_name=p.display_name,
        headline=p.headline,
        bio=p.bio,
        photo_url=p.photo_url,
        day_rate_min_minor=p.day_rate_min_minor,
        day_rate_max_minor=p.day_rate_max_minor,
        currency=p.currency,
        available_from=p.available_from,
        city=p.city,
        postal_code=p.postal_code,
        region=p.region,
        country=p.country,
        latitude=p.latitude,
        longitude=p.longitude,
        work_mode=p.work_mode,
        travel_km=p.travel_km,
        languages=[records.Language(code=str(x["code"]), level=str(x["level"])) for x in p.languages],
        links=[records.Link(kind=str(x["kind"]), url=str(x["url"])) for x in p.links],
        contact_email=p.contact_email,
        contact_phone=p.contact_phone,
        visibility=p.visibility,
        skills=sorted(
            (
                records.ProfileSkill(
                    slug=skill.slug,
                    name=skill.name,
                    esco_uri=skill.esco_uri,
                    level=row.level,
                    years=row.years,
                    declared=row.declared,
                    attestations=row.attestations,
                )
                for row, skill, _ in view.skills
            ),
            key=lambda s: s.slug,
        ),
        availability=[
            records.Availability(starts_on=a.starts_on, ends_on=a.ends_on, share_percent=a.share_percent)
            for a in sorted(view.availability, key=lambda a: (a.starts_on, a.ends_on))
        ],
    )


def resume_head(account: Account, profile: records.ProfileFile | None) -> dict[str, Any]:
    """JSON Resume 1.x without `work` (streamed after it); skills carry their ESCO URI as `url`."""
    basics: dict[str, Any] = {"name": profile.display_name if profile else account.display_name}
    if profile:
        basics.update(
            label=profile.headline,
            email=profile.contact_email or account.email,
            summary=profile.bio,
            location={
                "city": profile.city,
                "postalCode": profile.postal_code,
                "region": profile.region,
                "countryCode": profile.country,
            },
            profiles=[{"network": link.kind, "url": link.url} for link in profile.links],
        )
        if profile.contact_phone:
            basics["phone"] = profile.contact_phone
        if profile.photo_url:
            basics["image"] = profile.photo_url
    else:
        basics["email"] = account.email
    skills = [
        {
            "name": s.name,
            "level": LEVELS.get(s.level, str(s.level)),
            "keywords": [s.slug],
            **({"url": s.esco_uri} if s.esco_uri else {}),
        }
        for s in (profile.skills if profile else [])
    ]
    languages = [{"language": x.code, "fluency": x.level} for x in (profile.languages if profile else [])]
    return {
        "$schema": JSON_RESUME_SCHEMA,
        "basics": basics,
        "skills": skills,
        "languages": languages,
        "meta": {"version": "v1.0.0", "canonical": JSON_RESUME_SCHEMA},
    }


def person(account: Account, profile: records.ProfileFile | None) -> dict[str, Any]:
    """schema.org Person as JSON-LD; skills are DefinedTerms of ESCO where ESCO has them."""
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": profile.display_name if profile else account.display_name,
    }
    if profile:
        document.update(
            jobTitle=profile.headline,
            description=profile.bio,
            address={
                "@type": "PostalAddress",
                "addressLocality": profile.city,
                "postalCode": profile.postal_code,
                "addressRegion": profile.region,
                "addressCountry": profile.country,
            },
            knowsLanguage=[x.code for x in profile.languages],
            knowsAbout=[
                {
                    "@type": "DefinedTerm",
                    "name": s.name,
                    "termCode": s.slug,
                    **({"@id": s.esco_uri, "inDefinedTermSet": ESCO} if s.esco_uri else {}),
                }
                for s in profile.skills
            ],
            sameAs=[link.url for link in profile.links],
        )
        if profile.contact_email:
            document["email"] = profile.contact_email
    return document


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if isinstance(value, int | float):
        return str(value)  # a negative amount is a number, not a formula
    text = str(value)
    # A cell a spreadsheet would run as a formula is quoted (the JSON file keeps the exact text).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(rows: Iterable[records.Strict], columns: tuple[str, ...] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if columns is not None:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(getattr(row, name)) for name in row.__struct_fields__])
    return buffer.getvalue().encode()


async def opened_rows(
    keys: MemberKeyRing, section: str, member_id: uuid.UUID, batch: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A batch of a section's rows with other features' sealed texts opened under their author's key
    (the member's, or the reviewer's for reviews received); `[erased]` where that key was destroyed."""
    sealed = SEALED_COLUMNS.get(section)
    if sealed is None:
        return [dict(row) for row in batch]
    column, table, author = sealed
    await keys.load({row[author] for row in batch} if author else {member_id})
    return [
        {
            **row,
            column: open_text(
                keys.loaded(row[author] if author else member_id), row[column], table=table, row_id=row["id"]
            ),
        }
        for row in batch
    ]


class ArchiveBuilder:
    """One archive for one member, read from one session (a repeatable-read snapshot)."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        *,
        signer: VaultSigner,
        master_keys: MasterKeys,
        export_id: uuid.UUID,
        member_id: uuid.UUID,
    ) -> None:
        self.repository = VaultRepository(unit_of_work.session)
        self.members = MemberService(unit_of_work)
        self.signer = signer
        self.master_keys = master_keys
        self.export_id = export_id
        self.member_id = member_id
        self.moment = datetime.now(UTC).replace(microsecond=0)
        self.writer = ArchiveWriter(moment=self.moment)
        self._data_key: DataKey | None = None
        # Other features' texts are sealed under their author's key: the member's, or (reviews received)
        # the reviewer's. Read only; a key is never created by an export.
        self.authors_keys = MemberKeyRing(unit_of_work.session, master_keys)

    async def _key(self) -> DataKey | None:
        if self._data_key is None:
            row = await self.repository.member_key(self.member_id)
            if row is not None:
                self._data_key = self.master_keys.unwrap(row.master_version, row.wrapped_key, self.member_id)
        return self._data_key

    async def _with_imported_attestations(self, profile: records.ProfileFile | None) -> records.ProfileFile | None:
        """Skills attested at another cooperative count on the profile, as they did there."""
        key = await self._key()
        if profile is None or key is None:
            return profile
        skills = {s.slug: s for s in profile.skills}
        for stored in await self.repository.credentials(self.member_id):
            if stored.kind != "skill":
                continue
            token = key.open(stored.ciphertext, table="vault_credential", row_id=stored.id)
            subject = json.loads(base64.urlsafe_b64decode(_padded(token.split(b".")[1])))["credentialSubject"]
            skill, count = subject["skill"], int(subject.get("attestations", 0))
            slug = skill["termCode"]
            if slug in skills:
                skills[slug] = msgspec.structs.replace(skills[slug], attestations=skills[slug].attestations + count)
            else:
                skills[slug] = records.ProfileSkill(
                    slug=slug,
                    name=skill["name"],
                    esco_uri=skill.get("id"),
                    level=ATTESTED_ONLY_LEVEL,
                    years=0,
                    declared=False,
                    attestations=count,
                )
        return msgspec.structs.replace(profile, skills=sorted(skills.values(), key=lambda s: s.slug))

    async def _rows(self, section: Section) -> AsyncIterator[list[records.Strict]]:
        """Native rows, then imported history, as row structs, a batch at a time."""
        async for batch in self.repository.stream_section(section.name, self.member_id):
            rows = await opened_rows(self.authors_keys, section.name, self.member_id, batch)
            yield [section.row(**row) for row in rows]
        if not section.importable:
            return
        key = await self._key()
        if key is None:
            return
        decoder = msgspec.json.Decoder(section.row)
        async for stored in self.repository.stream_records(self.member_id, section.name):
            yield [decoder.decode(key.open(r.ciphertext, table="vault_record", row_id=r.id)) for r in stored]

    async def stream(self) -> AsyncIterator[bytes]:
        w = self.writer
        account = await self.repository.account(self.member_id)
        if account is None:
            raise NotFound()
        imports = await self.repository.imports(self.member_id)
        try:
            view: ProfileView | None = await self.members.own_profile(account)
        except NotFound:
            view = None
        profile = await self._with_imported_attestations(profile_file(view))
        account_file = records.AccountFile(
            id=account.id,
            identifiers=[subject_id(account.id), *dict.fromkeys(i.subject for i in imports)],
            email=account.email,
            display_name=account.display_name,
            role=account.role,
            member_status=account.member_status,
            created_at=account.created_at,
            email_verified_at=account.email_verified_at,
        )
        w.whole("account.json", "application/json", _encoder.encode(account_file))
        w.whole("profile.json", "application/json", _encoder.encode(profile))
        w.whole("person.jsonld", "application/ld+json", canonical_json(person(account, profile)))
        yield w.drain()

        # JSON Resume: everything but `work`, then the engagements streamed into it.
        head = canonical_json(resume_head(account, profile))
        w.begin("resume.json", "application/json")
        w.write(head[:-1] + b',"work":[')
        first = True
        async for batch in self._rows(records.SECTION_BY_NAME["engagements"]):
            for e in batch:
                assert isinstance(e, records.EngagementRow)
                item = {
                    "name": e.client_name,
                    "position": e.seat_title,
                    "summary": e.mission_title,
                    "startDate": e.starts_on.isoformat(),
                    "endDate": e.ends_on.isoformat(),
                }
                w.write((b"" if first else b",") + canonical_json(item))
                first = False
            if w.ready:
                yield w.drain()
        w.write(b"]}")
        w.end()

        for section in SECTIONS:
            w.begin(f"{section.name}.json", "application/json")
            w.write(b"[")
            first = True
            async for batch in self._rows(section):
                for row in batch:
                    w.write((b"" if first else b",") + _encoder.encode(row))
                    first = False
                if w.ready:
                    yield w.drain()
            w.write(b"]")
            w.end()
            w.begin(f"{section.name}.csv", "text/csv")
            w.write(csv_lines((), section.columns))
            async for batch in self._rows(section):
                w.write(csv_lines(batch))
                if w.ready:
                    yield w.drain()
            w.end()
            yield w.drain()

        async for chunk in self._credentials(account, profile):
            yield chunk

        w.whole("index.html", "text/html", self._index(account, profile))
        manifest = self._manifest(await self.repository.recovery_key(self.member_id))
        w.whole("manifest.json", "application/json", manifest)
        w.whole("manifest.jws", "application/jose", self.signer.sign_manifest(manifest).encode())
        yield w.close()

    async def _credentials(self, account: Account, profile: records.ProfileFile | None) -> AsyncIterator[bytes]:
        w = self.writer
        subject = {"id": subject_id(account.id), "name": profile.display_name if profile else account.display_name}
        issuer = {"id": self.signer.did, "name": self.signer.name}
        async for batch in self.repository.stream_section("engagements", self.member_id):
            for row in batch:
                if row["mission_status"] not in COMPLETED:
                    continue
                credential = {
                    "@context": [VC_CONTEXT],
                    "id": f"urn:uuid:{row['id']}",
                    "type": ["VerifiableCredential", "EngagementCredential"],
                    "issuer": issuer,
                    "validFrom": iso(row["delivered_at"] or row["created_at"]),
                    "name": "Mission completed through the cooperative",
                    "credentialSubject": {
                        **subject,
                        "engagement": {
                            "mission": row["mission_title"],
                            "role": row["seat_title"],
                            "client": row["client_name"],
                            "startDate": row["starts_on"].isoformat(),
                            "endDate": row["ends_on"].isoformat(),
                        },
                    },
                }
                w.whole(f"credentials/engagement-{row['id']}.jwt", "application/vc+jwt", self._issue(credential))
            yield w.drain()
        evidence: dict[str, list[Any]] = {}
        for row in await self.repository.skill_evidence(self.member_id):
            evidence.setdefault(row["slug"], []).append(row)
        for slug, rows in evidence.items():
            skill: dict[str, Any] = {"name": rows[0]["name"], "termCode": slug}
            if rows[0]["esco_uri"]:
                skill["id"] = rows[0]["esco_uri"]
            credential = {
                "@context": [VC_CONTEXT],
                "id": f"urn:coop:skill-credential:{account.id}:{slug}",
                "type": ["VerifiableCredential", "SkillCredential"],
                "issuer": issuer,
                "validFrom": iso(max(r["created_at"] for r in rows)),
                "name": "Skill attested by clients or teammates after missions",
                "credentialSubject": {**subject, "skill": skill, "attestations": len(rows)},
                "evidence": [
                    {"id": f"urn:uuid:{r['review_id']}", "type": ["Evidence", "Review"], "name": r["mission_title"]}
                    for r in rows
                ],
            }
            w.whole(f"credentials/skill-{slug}.jwt", "application/vc+jwt", self._issue(credential))
        key = await self._key()
        if key is not None:
            for stored in await self.repository.credentials(self.member_id):
                token = key.open(stored.ciphertext, table="vault_credential", row_id=stored.id)
                w.whole(stored.file_name, "application/vc+jwt", token)
        yield w.drain()

    def _issue(self, credential: dict[str, Any]) -> bytes:
        return self.signer.issue(credential).encode()

    def _index(self, account: Account, profile: records.ProfileFile | None) -> bytes:
        name = html.escape(profile.display_name if profile else account.display_name)
        rows = "\n".join(
            f"<tr><td><code>{html.escape(f.path)}</code></td><td>{f.bytes}</td><td><code>{f.sha256}</code></td></tr>"
            for f in self.writer.files
        )
        sections = "\n".join(
            f"<li><strong>{html.escape(s.title)}</strong> (<code>{s.name}.csv</code>, <code>{s.name}.json</code>): "
            f"{html.escape(s.description)}</li>"
            for s in SECTIONS
        )
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data vault of {name}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
td,th{{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #ddd}}code{{font-size:.85em}}</style></head>
<body><h1>Data vault of {name}</h1>
<p>Exported on {iso(self.moment)} by {html.escape(self.signer.name)} (<code>{html.escape(self.signer.did)}</code>).
Everything the cooperative holds about you is in this archive, in open formats.</p>
<h2>What is inside</h2><ul>
<li><strong>Your account</strong> (<code>account.json</code>) and <strong>profile</strong> (<code>profile.json</code>;
as a CV in <code>resume.json</code>, JSON Resume; as <code>person.jsonld</code>, schema.org)</li>
{sections}
<li><strong>Credentials</strong> (<code>credentials/*.jwt</code>): W3C Verifiable Credentials signed by the
cooperative for your completed missions and attested skills; anyone can check them against the keys
published at <code>{html.escape(self.signer.url)}/.well-known/did.json</code>.</li>
<li><strong>The manifest</strong> (<code>manifest.json</code>) lists every file's SHA-256;
<code>manifest.jws</code> is the cooperative's signature of it.</li></ul>
<h2>Files</h2><table><tr><th>File</th><th>Bytes</th><th>SHA-256</th></tr>
{rows}
</table></body></html>
"""
        return page.encode()

    def _manifest(self, recovery: Any) -> bytes:
        manifest = records.Manifest(
            format=records.FORMAT,
            format_version=records.FORMAT_VERSION,
            export_id=self.export_id,
            exported_at=self.moment,
            issuer=records.Issuer(did=self.signer.did, url=self.signer.url, name=self.signer.name),
            subject=records.Subject(
                id=subject_id(self.member_id), recovery_key=recovery.public_jwk if recovery else None
            ),
            volatile_files=list(records.VOLATILE_FILES),
            files=[
                records.ManifestFile(path=f.path, sha256=f.sha256, bytes=f.bytes, media_type=f.media_type)
                for f in self.writer.files
            ],
        )
        return json.dumps(msgspec.to_builtins(manifest), indent=2, ensure_ascii=False).encode()
