"""governance/ installs alone (issue 9, item 8): a fresh virtual environment outside the repository
gets `python -m governance` from `pip install` of that folder, with nothing of the application."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from governance import Rules, certify, tally
from governance.model import Ballot, Electorate

GOVERNANCE = Path(__file__).resolve().parents[3] / "governance"


def test_governance_installs_and_runs_outside_the_repository(tmp_path: Path) -> None:
    source = tmp_path / "src" / "governance"
    # A copy, so the build leaves nothing in the repository (and the root package never sees it).
    shutil.copytree(GOVERNANCE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    if installed.returncode != 0:
        pytest.skip(f"no build backend reachable for pip (no package index?): {installed.stderr[-300:]}")
    result = tally(Rules(method="motion"), Electorate.of(["a", "b", "c"]), [Ballot("a", "yes"), Ballot("b", "no")])
    certificate = tmp_path / "elsewhere" / "certificate.json"
    certificate.parent.mkdir()
    certificate.write_text(certify(result).to_json(), encoding="utf-8")
    ran = subprocess.run(
        [str(python), "-m", "governance", "verify", certificate.name],
        cwd=certificate.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "verifies" in ran.stdout
    where = subprocess.run(
        [str(python), "-c", "import governance, importlib.util as u; print(governance.__file__, u.find_spec('app'))"],
        cwd=certificate.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(environment) in where and where.strip().endswith("None"), "installed alone, without the app"
    assert sys.version_info >= (3, 11)
