"""The release: ``python -m build`` makes a wheel that installs and runs ``franc demo`` in a
fresh virtualenv outside the checkout, with the policies and SOEval inside.

Offline: the wheel is built without build isolation (setuptools and wheel come with the test
extra) and installed without its dependencies; the fresh virtualenv sees this environment's
installed dependencies through a ``.pth`` file (``--system-site-packages`` would show the base
interpreter's, not this virtualenv's). FRANC itself comes only from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("build")
REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.release


def run(*command: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=environment,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out,
                REPO, cwd=out)
    [path] = out.glob("franc_code-*.whl")
    return path, built.stdout + built.stderr


def test_wheel_builds_without_setuptools_package_warnings(wheel: tuple[Path, str]) -> None:
    _, log = wheel
    assert "absent from the `packages` configuration" not in log
    assert "BuildBackendWarning" not in log


def test_wheel_ships_policies_soeval_examples_and_the_javac_helper(
        wheel: tuple[Path, str]) -> None:
    names = set(zipfile.ZipFile(wheel[0]).namelist())
    for expected in ("franc/policy/filters/python.toml", "franc/policy/filters/java.toml",
                     "franc/policy/rankers/quality.toml", "franc/policy/rankers/learned.json",
                     "franc/policy/repair_prompts/P1.j2", "franc/policy/repair_prompts/chat.toml",
                     "franc/datasets/data/SOEval/python.jsonl",
                     "franc/datasets/data/SOEval/java.jsonl",
                     "franc/examples/python_prompts.jsonl", "franc/java/FrancJavac.java"):
        assert expected in names
    assert not any("__pycache__" in name or "/src/" in name for name in names)


def test_wheel_runs_franc_demo_in_a_fresh_virtualenv(wheel: tuple[Path, str],
                                                     tmp_path: Path) -> None:
    if shutil.which("javac") is None:
        pytest.skip("franc demo needs a JDK (javac)")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=tmp_path).stdout.strip())
    dependencies = dict.fromkeys([sysconfig.get_paths()["purelib"],
                                  sysconfig.get_paths()["platlib"]])
    (site / "franc_test_dependencies.pth").write_text("\n".join(dependencies) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "--quiet", wheel[0], cwd=tmp_path)
    where = run(python, "-c", "import franc, franc.policy; print(franc.__file__)",
                cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the wheel's copy, not the checkout
    demo = run(venv / "bin" / "franc", "demo", cwd=tmp_path)
    assert "FRANC demo: python" in demo.stdout and "FRANC demo: java" in demo.stdout
    listing = run(venv / "bin" / "franc", "datasets", "list", cwd=tmp_path)
    assert "SOEval/python" in listing.stdout and "unreadable" not in listing.stdout
