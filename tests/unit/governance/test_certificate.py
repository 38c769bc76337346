"""Certificates: canonical form, hash, recount, tampering; and the offline command line."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction

import pytest
from helpers import run

from governance import (
    Ballot,
    Certificate,
    College,
    Electorate,
    InvalidCertificate,
    Rules,
    Voter,
    certify,
    tally,
    verify,
)
from governance.__main__ import main
from governance.canonical import canonical_json


def _certificate() -> Certificate:
    rules = Rules(method="schulze", options=("a", "b", "c"), quorum=Fraction(1, 2))
    return certify(run(rules, [(3, ("a", "b")), (2, ("b", ("a", "c"))), (1, None)], size=8))


def test_canonical_json_rules() -> None:
    assert canonical_json({"b": Fraction(2, 4), "a": ["é", None, True]}) == b'{"a":["\xc3\xa9",null,true],"b":"1/2"}'
    with pytest.raises(TypeError):
        canonical_json({"x": 0.5})


def test_certificate_is_canonical_and_anonymous() -> None:
    cert = _certificate()
    text = cert.to_json()
    assert text == canonical_json(json.loads(text)).decode()
    assert "v0" not in text  # no member ids in a certificate
    ballots = cert.body["ballots"]
    assert ballots == sorted(ballots, key=lambda e: canonical_json({k: v for k, v in e.items() if k != "count"}))
    assert {"choice": None, "college": None, "count": 1} in ballots
    assert verify(cert) and verify(text) and verify(json.loads(text))


def test_same_ballots_in_another_order_give_the_same_certificate() -> None:
    rules = Rules(method="approval", options=("a", "b"))
    one = certify(run(rules, [(2, ("a", "b")), (1, ("b",))]))
    two = certify(run(rules, [(1, ("b",)), (2, ("b", "a"))]))
    assert one.sha256 == two.sha256


def test_tampering_is_detected() -> None:
    cert = json.loads(_certificate().to_json())
    forged = json.loads(json.dumps(cert))
    forged["certificate"]["ballots"][0]["count"] += 1
    with pytest.raises(InvalidCertificate) as err:
        verify(forged)
    assert err.value.code == "hash_mismatch"
    # Re-hashing a forged body does not help: the recount disagrees with the published result.
    forged["sha256"] = hashlib.sha256(canonical_json(forged["certificate"])).hexdigest()
    with pytest.raises(InvalidCertificate) as err:
        verify(forged)
    assert err.value.code == "outcome_mismatch"
    with pytest.raises(InvalidCertificate) as err:
        verify("not json")
    assert err.value.code == "malformed"


def test_certificate_with_colleges_and_consent_reasons() -> None:
    colleges = (College("w", Fraction(1, 2)), College("u", Fraction(1, 2)))
    e = Electorate((Voter("a", "w"), Voter("b", "u"), Voter("c", "u")))
    motion = tally(Rules(method="motion", colleges=colleges), e, [Ballot("a", "yes"), Ballot("b", "no")])
    assert verify(certify(motion))
    consent = tally(Rules(method="consent"), e, [Ballot("a", "block", reason="too soon"), Ballot("b", "agree")])
    cert = certify(consent)
    assert {"choice": "block", "college": None, "count": 1, "reason": "too soon"} in cert.body["ballots"]
    assert verify(cert)
    choice = tally(
        Rules(method="majority_judgment", options=("x", "y"), colleges=colleges),
        e,
        [Ballot("a", {"x": "good"}), Ballot("b", {"y": "good"}), Ballot("c", {"y": "excellent"})],
    )
    assert verify(certify(choice))


def test_cli_tally_verify_and_bad_files(tmp_path, capsys) -> None:
    cert_file = tmp_path / "cert.json"
    cert_file.write_text(_certificate().to_json(), encoding="utf-8")
    assert main(["verify", str(cert_file)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "Strongest paths" in out
    assert main(["tally", str(cert_file)]) == 0
    decision = {
        "rules": {"method": "motion", "quorum": "1/2"},
        "electorate": ["ann", {"id": "bob", "college": None}, "cy"],
        "ballots": [{"voter": "ann", "choice": "yes"}, {"voter": "cy", "choice": "yes", "cast_by": "bob"}],
        "proxies": [{"principal": "cy", "holder": "bob", "decision": "d1"}],
    }
    input_file = tmp_path / "decision.json"
    input_file.write_text(json.dumps(decision), encoding="utf-8")
    assert main(["tally", str(input_file)]) == 0
    assert "ADOPTED" in capsys.readouterr().out
    stv = tmp_path / "stv.json"
    stv.write_text(
        json.dumps(
            {
                "rules": {"method": "stv", "options": ["x", "y"], "seats": 1},
                "electorate": ["a", "b"],
                "ballots": [{"voter": "a", "choice": ["x", "y"]}, {"voter": "b", "choice": ["y"]}],
            }
        ),
        encoding="utf-8",
    )
    assert main(["blt", str(stv)]) == 0
    assert capsys.readouterr().out.startswith("2 1\n")

    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert main(["tally", str(bad)]) == 2
    assert "not valid UTF-8 JSON" in capsys.readouterr().err
    assert main(["tally", str(tmp_path / "missing.json")]) == 2
    bad.write_text(json.dumps({"rules": {"method": "motion", "quorum": 0.5}}), encoding="utf-8")
    assert main(["tally", str(bad)]) == 2
    assert "quorum" in capsys.readouterr().err
    forged = json.loads(cert_file.read_text())
    forged["certificate"]["electorate"]["size"] = 99
    bad.write_text(json.dumps(forged), encoding="utf-8")
    assert main(["verify", str(bad)]) == 1
    assert "does not verify" in capsys.readouterr().err
    assert main(["verify", str(input_file)]) == 2
