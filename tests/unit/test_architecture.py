"""Architecture rules that keep the layers honest, checked with import-linter's contracts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FEATURE_FILES = {"controllers.py", "service.py", "repository.py", "schemas.py", "deps.py"}


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "No module named" in result.stderr:
        result = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_governance_imports_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"governance", "__future__"}
    for path in (ROOT / "governance").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.relative_to(ROOT)} imports {name}"


def test_every_feature_has_the_same_file_names() -> None:
    """A module may have grown into a package of the same name (`repository/`): it still counts."""
    for feature in (
        "accounts",
        "members",
        "missions",
        "assemblies",
        "cv",
        "training",
        "diagnostic",
        "payments",
        "vault",
    ):
        folder = ROOT / "app" / feature
        present = {path.name for path in folder.glob("*.py")}
        present |= {f"{path.parent.name}.py" for path in folder.glob("*/__init__.py")}
        assert present >= FEATURE_FILES, f"app/{feature} lacks {FEATURE_FILES - present}"


def test_sql_stays_in_repositories() -> None:
    """Controllers and services never build queries: they import no SQL toolkit at all."""
    sql_modules = {"sqlalchemy", "sqlmodel", "asyncpg"}
    for path in (ROOT / "app").rglob("*.py"):
        # `service_ballots.py` and the like are parts of a feature's service: the same rule holds.
        if not (path.name.startswith(("controllers", "service")) or path.parent.name in {"controllers", "service"}):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in sql_modules, f"{path.relative_to(ROOT)} imports {name}"


def test_every_source_folder_is_a_regular_package() -> None:
    """Without __init__.py a folder is left out of a non-editable install (the Docker image)."""
    for top in ("app", "governance", "migrations"):
        for folder in [ROOT / top, *(ROOT / top).rglob("*")]:
            if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py")):
                assert (folder / "__init__.py").exists(), f"{folder.relative_to(ROOT)} has no __init__.py"
