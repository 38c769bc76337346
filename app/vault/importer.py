"""Reading an archive brought from another cooperative, checked completely before anything is written.

Order of the checks: the zip's structure (names, entry count, declared and real sizes, ratios), the
manifest's signature by a trusted issuer, the recovery-key proof that the person importing holds the
member's recovery key, every file against the manifest (no file missing, none added, each SHA-256
and size), every JSON file against its struct, every credential's signature against its own issuer's
registered key and its subject against the archive's member. Any failure raises `ImportRefused`
(a problem document); the caller writes only once `verify_archive` returns.

Nothing here touches the database or HTTP.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import IO, Any

import msgspec
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from app.core.errors import AppError
from app.vault import records
from app.vault.archive import Limits, UnsafeArchive, open_archive
from app.vault.credentials import SignatureError, TrustedKeys

PROOF_TYPE = "coop-vault-recovery-proof+jws"


class ImportRefused(AppError):
    status_code = 422
    slug = "vault-import-refused"
    title = "The archive cannot be imported"


class UnsafeArchiveRefused(ImportRefused):
    slug = "vault-archive-unsafe"
    title = "The archive is unsafe to open (zip bomb, strange names, not a zip)"


class SignatureRefused(ImportRefused):
    slug = "vault-signature-invalid"
    title = "The archive's signature does not verify"


class UnknownIssuer(ImportRefused):
    slug = "vault-issuer-unknown"
    title = "The archive or a credential comes from an issuer this cooperative does not trust"


class TamperedArchive(ImportRefused):
    slug = "vault-archive-tampered"
    title = "A file of the archive differs from what its signed manifest says"


class RecoveryProofRefused(ImportRefused):
    slug = "vault-recovery-proof-invalid"
    title = "The recovery-key proof is missing or does not prove the archive is yours"


@dataclass
class VerifiedArchive:
    issuer: str
    manifest: records.Manifest
    manifest_sha256: str
    account: records.AccountFile
    profile: records.ProfileFile | None
    sections: dict[str, list[records.Strict]] = field(default_factory=dict)
    # (file name, issuer DID, kind, compact JWT, credential)
    credentials: list[tuple[str, str, str, str, dict[str, Any]]] = field(default_factory=list)


def recovery_proof_payload(manifest_sha256: str, audience: str) -> bytes:
    return json.dumps({"manifest_sha256": manifest_sha256, "aud": audience}, sort_keys=True).encode()


def sign_recovery_proof(private_pem: str, manifest: bytes, audience: str) -> str:
    """What the member runs (or `coop vault prove` does) with the recovery key they kept."""
    key = OKPKey.import_key(private_pem)
    payload = recovery_proof_payload(hashlib.sha256(manifest).hexdigest(), audience)
    return jws.serialize_compact({"alg": "Ed25519", "typ": PROOF_TYPE}, payload, key, algorithms=["Ed25519"])


def _check_proof(proof: str | None, manifest: records.Manifest, manifest_sha256: str, audience: str) -> None:
    if not proof:
        raise RecoveryProofRefused("Send the `Coop-Recovery-Proof` header, signed with your recovery key.")
    if manifest.subject.recovery_key is None:
        raise RecoveryProofRefused("This archive names no recovery key: create one, then export again.")
    try:
        key = OKPKey.import_key(manifest.subject.recovery_key)
        verified = jws.deserialize_compact(proof, key, algorithms=["Ed25519"])
    except (JoseError, ValueError, TypeError) as error:
        raise RecoveryProofRefused("The proof is not signed by the archive's recovery key.") from error
    if verified.headers().get("typ") != PROOF_TYPE or verified.payload != recovery_proof_payload(
        manifest_sha256, audience
    ):
        raise RecoveryProofRefused("The proof is for another archive or another cooperative.")


def _decode(data: bytes, kind: Any, name: str) -> Any:
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.ValidationError as error:
        raise ImportRefused(f"{name} does not follow its schema: {str(error)[:200]}") from error
    except msgspec.DecodeError as error:
        raise ImportRefused(f"{name} is not valid JSON") from error


def verify_archive(
    upload: IO[bytes], *, limits: Limits, trusted: TrustedKeys, proof: str | None, audience: str
) -> VerifiedArchive:
    try:
        archive = open_archive(upload, limits)
    except UnsafeArchive as error:
        raise UnsafeArchiveRefused(str(error)) from error
    try:
        return _verify(archive, trusted=trusted, proof=proof, audience=audience)
    except UnsafeArchive as error:
        raise UnsafeArchiveRefused(str(error)) from error
    finally:
        archive.close()


def _verify(archive: Any, *, trusted: TrustedKeys, proof: str | None, audience: str) -> VerifiedArchive:
    if "manifest.json" not in archive.names or "manifest.jws" not in archive.names:
        raise ImportRefused("The archive has no manifest.json and manifest.jws.")
    manifest_bytes = archive.read("manifest.json")
    try:
        issuer = trusted.verify_manifest(
            archive.read("manifest.jws").decode("ascii", "replace").strip(), manifest_bytes
        )
    except SignatureError as error:
        kind = UnknownIssuer if "trusted issuer" in str(error) or "has no key" in str(error) else SignatureRefused
        raise kind(str(error)) from error
    manifest: records.Manifest = _decode(manifest_bytes, records.Manifest, "manifest.json")
    if manifest.format != records.FORMAT or manifest.format_version.split(".")[0] != "1":
        raise ImportRefused(f"Unknown archive format {manifest.format} {manifest.format_version}.")
    if manifest.issuer.did != issuer:
        raise SignatureRefused("The manifest names another issuer than the key that signed it.")
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    _check_proof(proof, manifest, manifest_sha256, audience)

    listed = {entry.path: entry for entry in manifest.files}
    present = set(archive.names) - {"manifest.json", "manifest.jws"}
    if present != set(listed):
        extra, missing = sorted(present - set(listed))[:3], sorted(set(listed) - present)[:3]
        raise TamperedArchive(f"Files not in the manifest: {extra}; files missing: {missing}.")
    contents: dict[str, bytes] = {}
    for path, entry in listed.items():
        data = archive.read(path)
        if len(data) != entry.bytes or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise TamperedArchive(f"{path} does not match its SHA-256 in the signed manifest.")
        if not path.endswith(".csv") and path != "index.html":
            contents[path] = data

    for required in ("account.json", "profile.json"):
        if required not in contents:
            raise ImportRefused(f"The archive has no {required}.")
    verified = VerifiedArchive(
        issuer=issuer,
        manifest=manifest,
        manifest_sha256=manifest_sha256,
        account=_decode(contents["account.json"], records.AccountFile, "account.json"),
        profile=_decode(contents["profile.json"], records.ProfileFile | None, "profile.json"),
    )
    if manifest.subject.id not in verified.account.identifiers:
        raise ImportRefused("The manifest's subject is not the archive's account.")
    for section in records.SECTIONS:
        name = f"{section.name}.json"
        if section.importable and name in contents:
            verified.sections[section.name] = _decode(contents[name], list[section.row], name)  # type: ignore[valid-type]
    for path in sorted(p for p in contents if p.startswith("credentials/") and p.endswith(".jwt")):
        token = contents[path].decode("ascii", "replace").strip()
        try:
            credential_issuer, credential = trusted.verify_credential(token)
        except SignatureError as error:
            kind = UnknownIssuer if "trusted issuer" in str(error) or "has no key" in str(error) else SignatureRefused
            raise kind(f"{path}: {error}") from error
        subject = credential.get("credentialSubject") or {}
        if not isinstance(subject, dict) or subject.get("id") not in verified.account.identifiers:
            raise ImportRefused(f"{path} is about someone else than the archive's member.")
        kinds = credential.get("type") or []
        kind_name = "skill" if "SkillCredential" in kinds else "engagement" if "EngagementCredential" in kinds else ""
        if not kind_name:
            raise ImportRefused(f"{path} is of an unknown credential type.")
        verified.credentials.append((path, credential_issuer, kind_name, token, credential))
    return verified
