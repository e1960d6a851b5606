"""The pre-commit hook of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit``.

Offline: the hook is declared in a ``repo: local`` configuration with the manifest's own
entry, types and options, but ``language: system`` on this virtualenv's ``franc`` (pre-commit
would otherwise install FRANC and its dependencies from the package index).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # a dependency of pre-commit
pytest.importorskip("pre_commit")

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    [hook] = [h for h in yaml.safe_load(MANIFEST.read_text()) if h["id"] == "franc-analyze"]
    assert hook["language"] == "python" and set(hook["types_or"]) == {"python", "java"}
    local = {**hook, "language": "system", "entry": str(BIN / hook["entry"])}
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    git(project, "config", "user.email", "dev@example.invalid")
    git(project, "config", "user.name", "dev")
    (project / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    return project


def pre_commit(project: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PRE_COMMIT_HOME": str(project.parent / "pre-commit-home"),
                   "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(BIN / "pre-commit"), "run"], cwd=project, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_hook_fails_on_a_staged_security_finding(project: Path) -> None:
    (project / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    (project / "Main.java").write_text(
        'class Main { boolean f(String s) { return s == "x"; } }\n')
    (project / "notes.txt").write_text("not code")
    git(project, "add", "app.py", "Main.java", "notes.txt", ".pre-commit-config.yaml")
    result = pre_commit(project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app.py:5:12: high bandit/B602" in result.stdout
    assert "Main.java:1:" in result.stdout and "string-equality" in result.stdout
    assert "notes.txt" not in result.stdout


def test_hook_passes_clean_staged_files_and_ignores_unstaged(project: Path) -> None:
    (project / "Clean.java").write_text("class Clean { int f() { return 1; } }\n")
    (project / "unstaged.py").write_text("eval(input())\n")
    git(project, "add", "Clean.java", ".pre-commit-config.yaml")
    result = pre_commit(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
