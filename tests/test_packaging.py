"""A built wheel carries the grammar and works outside the repository."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source tree")
def test_wheel_carries_the_grammar_and_runs(tmp_path):
    pytest.importorskip("hatchling", reason="the wheel is built offline with hatchling")
    out = tmp_path / "dist"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    wheel = next(out.glob("exprgrad-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "exprgrad/grammar/exprgrad.lark" in names
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    # Run from an empty directory with only the unpacked wheel on the path: no repo fallback.
    code = ("import sys, exprgrad; p = sys.modules['exprgrad.parse']; "
            "assert 'site' in str(p.__file__); "
            "print(exprgrad.compile('tanh(x)')(x=0.5))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "0.46211715726000974"
    # The console script the wheel declares, found through the installed metadata as an
    # installer finds it, runs the CLI: exit status 0 with the answer, 2 on bad input.
    script = ("import sys; from importlib.metadata import entry_points; "
              "(ep,) = entry_points(group='console_scripts', name='exprgrad'); "
              "sys.argv = ['exprgrad', *sys.argv[1:]]; ep.load()()")
    for args, status, out in ((["x^2", "--at", "x=3"], 0, "f = 9"), (["x +"], 2, "")):
        res = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                             text=True, cwd=tmp_path, timeout=120,
                             env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
        assert res.returncode == status, res.stderr
        assert res.stdout.startswith(out) and "Traceback" not in res.stderr
