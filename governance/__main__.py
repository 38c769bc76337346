"""Command line: recompute or verify a published result offline.

    python -m governance tally FILE.json [--certificate CERT.json]
                                             # recount and print the explanation
    python -m governance verify FILE.json    # check a certificate's hash and outcome
    python -m governance blt FILE.json       # print the counted ranked ballots in BLT format

``FILE.json`` is either a certificate (``{"certificate": {...}, "sha256": "..."}``) or a decision
input, such as a published ballot box. A certificate is checked against its SHA-256 before it is
recounted; a box is checked against the certificate given with ``--certificate`` (same rules,
electorate, counted ballots and result), and the certified attendance is printed beside the box's
own reading of it. A decision input::

    {"rules": {...Rules.to_dict()...},
     "electorate": [{"id": "ann", "college": null}, ...]   (or a list of ids),
     "ballots": [{"voter": "ann", "choice": "yes", "cast_by": null, "reason": null}, ...],
     "proxies": [{"principal": "bob", "holder": "ann", "decision": "d1"}, ...]}

Exit status: 0 on success, 1 when a certificate does not verify or a box does not match its
certificate, 2 on a bad file, 3 when a published box (it carries ``proposal_id``) is recounted with
no certificate to check it against (the recount is printed, but nothing proves it is the box).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .blt import to_blt
from .certificate import Certificate, attendance_lines, box_differences, recount, verify
from .errors import GovernanceError, InvalidCertificate
from .model import Ballot, Electorate, Proxy, Rules, Voter
from .result import Result
from .tally import tally


class BadFile(Exception):
    pass


def _load(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadFile(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadFile(f"{path} is not valid UTF-8 JSON: {exc}") from None


def _objects(data: Any, name: str) -> list[Mapping[str, Any]]:
    items = data.get(name, [])
    if not isinstance(items, list):
        raise BadFile(f"'{name}' must be a list")
    return items


def input_from_json(data: Any) -> tuple[Rules, Electorate, list[Ballot], list[Proxy]]:
    """Read a decision input document (see module docstring)."""
    if not isinstance(data, Mapping) or "rules" not in data:
        raise BadFile("expected a certificate or an object with 'rules', 'electorate' and 'ballots'")
    rules = Rules.from_dict(data["rules"])
    try:
        voters = []
        for item in _objects(data, "electorate"):
            if isinstance(item, str):
                voters.append(Voter(item))
            else:
                voters.append(Voter(item["id"], item.get("college")))
        ballots = [
            Ballot(b["voter"], b.get("choice"), b.get("reason"), b.get("cast_by")) for b in _objects(data, "ballots")
        ]
        proxies = [
            Proxy(p["principal"], p.get("holder"), p.get("decision"), p.get("assembly"))
            for p in _objects(data, "proxies")
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadFile(f"malformed input: missing or wrong field {exc}") from None
    return rules, Electorate(tuple(voters)), ballots, proxies


class BoxMismatch(Exception):
    pass


def _is_certificate(data: Any) -> bool:
    return isinstance(data, Mapping) and "certificate" in data


def _result_of(data: Any) -> Result:
    if _is_certificate(data):
        return recount(Certificate.from_json(data))
    rules, electorate, ballots, proxies = input_from_json(data)
    return tally(rules, electorate, ballots, proxies)


def _tally(data: Any, certificate_path: str | None) -> tuple[Result, list[str], int]:
    """The recount, the lines to print after its explanation, and the exit status."""
    if _is_certificate(data):
        verify(data)  # a forged certificate is refused before anything is printed from it
        result = recount(Certificate.from_json(data))
        notes = [f"Certificate {data['sha256']} verifies (hash and recount)."]
        attendance = data["certificate"].get("attendance")
        if attendance:
            notes += attendance_lines(attendance, attendance)[:1]
        return result, notes, 0
    result = _result_of(data)
    if certificate_path is None:
        if isinstance(data, Mapping) and "proposal_id" in data:
            return result, ["NOT VERIFIED: pass the result's certificate with --certificate to check this box."], 3
        return result, [], 0
    certificate = _load(certificate_path)
    if not _is_certificate(certificate):
        raise BadFile(f"{certificate_path} is not a certificate: an object with 'certificate' and 'sha256'")
    differences = box_differences(result, certificate)
    if differences:
        raise BoxMismatch(
            f"the box does not match certificate {certificate['sha256']}: {', '.join(differences)}"
            " (a ballot was changed, added or removed, or this is another vote's box)"
        )
    notes = [f"The box matches certificate {certificate['sha256']} (which verifies: hash and recount)."]
    notes += attendance_lines(result.attendance, certificate["certificate"].get("attendance") or {})
    return result, notes, 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m governance", description="Recompute cooperative decisions offline."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("tally", "recount a certificate or a decision input and print the explanation"),
        ("verify", "check a certificate's SHA-256 and recount its outcome"),
        ("blt", "print the counted ranked ballots in BLT format"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("file", help="JSON file")
        if name == "tally":
            command.add_argument("--certificate", help="the certificate to check a ballot box against")
    parser.add_argument("--json", action="store_true", help="print the structured result as JSON")
    args = parser.parse_args(argv)
    status, notes = 0, []
    try:
        data = _load(args.file)
        if args.command == "tally":
            result, notes, status = _tally(data, args.certificate)
        elif args.command == "verify":
            if not isinstance(data, Mapping) or "certificate" not in data:
                raise BadFile("verify needs a certificate: an object with 'certificate' and 'sha256'")
            verify(data)
            result = recount(Certificate.from_json(data))
            print(f"OK: certificate {data['sha256']} verifies (hash and recount).")
        else:
            result = _result_of(data)
        if args.command == "blt":
            if isinstance(data, Mapping) and "certificate" in data:
                ballots = [
                    e["choice"] for e in data["certificate"]["ballots"] for _ in range(e["count"]) if e["choice"]
                ]
            else:
                _rules, _e, bl, _p = input_from_json(data)
                ballots = bl
            print(to_blt(result.rules, ballots), end="")
        elif args.json:
            print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        else:
            print(result.explain())
        for note in notes:
            print(note, file=sys.stderr if (status or args.json) else sys.stdout)
    except InvalidCertificate as exc:
        print(f"error: certificate does not verify: {exc.reason} [{exc.code}]", file=sys.stderr)
        return 1
    except BoxMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BadFile as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GovernanceError as exc:
        print(f"error: {exc} [{exc.code}]", file=sys.stderr)
        return 2
    return status


def run() -> None:
    """The `coop-governance` console script (same as `python -m governance`)."""
    sys.exit(main())


if __name__ == "__main__":
    run()
