"""`python -m governance tally` on a published box (issue 9, item 8): checked against the certificate's
hash, non-zero on a tampered box or certificate, and the attendance read as the server certified it
(with the reason the box alone reads otherwise)."""

from __future__ import annotations

import json
from pathlib import Path

from governance import Ballot, Electorate, Proxy, Rules, certify, tally
from governance.__main__ import main

RULES = Rules(method="motion", blank_proxies="board")


def _published(tmp_path: Path) -> tuple[Path, Path, dict]:
    """Eight members: six vote in person, one through a named proxy, one by a blank proxy; the box
    is what the server publishes: counted ballots under pseudonyms, nobody's `cast_by`."""
    electorate = Electorate.of([f"m{i}" for i in range(9)])
    ballots = [Ballot(f"m{i}", "yes" if i < 4 else "no") for i in range(6)]
    ballots.append(Ballot("m6", "yes", cast_by="m0"))
    proxies = [Proxy("m6", "m0", decision="d1"), Proxy("m7", None, decision="d1")]
    result = tally(RULES, electorate, ballots, proxies, decision="d1")
    assert result.attendance == {"in_person": 6, "by_proxy": 1, "blank_proxies": 1, "cancelled_proxies": 0}
    certificate = certify(result)
    counted = [entry for entry in certificate.body["ballots"] for _ in range(entry["count"])]
    box = {
        "proposal_id": "00000000-0000-0000-0000-000000000001",
        "rules": RULES.to_dict(),
        "electorate": [f"t{i}" for i in range(len(counted))] + ["absent-1"],
        "ballots": [{"voter": f"t{i}", "choice": e["choice"], "cast_by": None} for i, e in enumerate(counted)],
        "proxies": [],
    }
    cert_file, box_file = tmp_path / "certificate.json", tmp_path / "box.json"
    cert_file.write_text(certificate.to_json(), encoding="utf-8")
    box_file.write_text(json.dumps(box), encoding="utf-8")
    return cert_file, box_file, box


def test_a_box_is_checked_against_its_certificate_and_reads_the_certified_attendance(tmp_path, capsys) -> None:
    cert_file, box_file, box = _published(tmp_path)
    assert main(["tally", str(box_file), "--certificate", str(cert_file)]) == 0
    out = capsys.readouterr().out
    assert "The box matches certificate" in out
    assert "certified, covered by the certificate's hash): 6 in person, 1 by proxy, 1 blank proxies" in out
    assert "This file alone reads 8 in person, 0 by proxy" in out and "after proxies were resolved" in out

    # One ballot flipped in the box: the recount may even give the same outcome, the check does not.
    box["ballots"][-1]["choice"] = "yes" if box["ballots"][-1]["choice"] == "no" else "no"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(box), encoding="utf-8")
    assert main(["tally", str(tampered), "--certificate", str(cert_file)]) == 1
    assert "does not match certificate" in capsys.readouterr().err
    # Without the certificate a published box is recounted, but said unverified (exit 3).
    assert main(["tally", str(tampered)]) == 3
    assert "NOT VERIFIED" in capsys.readouterr().err


def test_a_tampered_certificate_is_refused_by_tally_too(tmp_path, capsys) -> None:
    cert_file, box_file, _ = _published(tmp_path)
    assert main(["tally", str(cert_file)]) == 0
    assert "6 in person, 1 by proxy" in capsys.readouterr().out
    forged = json.loads(cert_file.read_text())
    forged["certificate"]["ballots"][0]["count"] += 1
    cert_file.write_text(json.dumps(forged), encoding="utf-8")
    assert main(["tally", str(cert_file)]) == 1
    assert main(["tally", str(box_file), "--certificate", str(cert_file)]) == 1
    assert "does not verify" in capsys.readouterr().err
