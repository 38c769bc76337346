"""Command line: recompute or verify a published result offline.

    python -m governance tally FILE.json     # recount and print the explanation
    python -m governance verify FILE.json    # check a certificate's hash and outcome
    python -m governance blt FILE.json       # print the counted ranked ballots in BLT format

``FILE.json`` is either a certificate (``{"certificate": {...}, "sha256": "..."}``) or a decision
input::

    {"rules": {...Rules.to_dict()...},
     "electorate": [{"id": "ann", "college": null}, ...]   (or a list of ids),
     "ballots": [{"voter": "ann", "choice": "yes", "cast_by": null, "reason": null}, ...],
     "proxies": [{"principal": "bob", "holder": "ann", "decision": "d1"}, ...]}

Exit status: 0 on success, 1 when a certificate does not verify, 2 on a bad file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .blt import to_blt
from .certificate import Certificate, recount, verify
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


def _result_of(data: Any) -> Result:
    if isinstance(data, Mapping) and "certificate" in data:
        return recount(Certificate.from_json(data))
    rules, electorate, ballots, proxies = input_from_json(data)
    return tally(rules, electorate, ballots, proxies)


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
        sub.add_parser(name, help=text).add_argument("file", help="JSON file")
    parser.add_argument("--json", action="store_true", help="print the structured result as JSON")
    args = parser.parse_args(argv)
    try:
        data = _load(args.file)
        if args.command == "verify":
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
    except InvalidCertificate as exc:
        print(f"error: certificate does not verify: {exc.reason} [{exc.code}]", file=sys.stderr)
        return 1
    except BadFile as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GovernanceError as exc:
        print(f"error: {exc} [{exc.code}]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
