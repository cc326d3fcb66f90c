"""The README runs: every fenced code block that is meant to run is executed here.

Blocks are found when the tests are collected, so a section added to the README is tested
without touching this file:

- ```` ```python ```` blocks run in a fresh namespace (``>>>`` blocks as doctests), each in its
  own empty temporary directory: a block must be complete by itself.
- ```` ```sh ```` blocks run command by command (lines, and ``&&`` within a line) in an empty
  temporary directory that has the checkout's top-level folder names (``examples/``...):
  ``exprgrad ...`` in-process through `exprgrad.cli.main` (`helpers.run_cli`; exit status 0),
  ``python3 ...`` in a subprocess that imports this exprgrad.  Installing (``python3 -m venv``,
  ``. .venv/bin/activate``, ``pip install``) is skipped: `test_packaging.py` builds and checks
  the wheel, and CI runs the README's install-and-test command itself.  Lines ``# text``
  after a command are its expected standard output; an unlabelled block right after a shell
  block is the expected standard output of its last command.  Any other command fails the test.
- A block that is not meant to run has an HTML comment on the line before its fence, which a
  reader of the rendered README does not see: ``<!-- not run: the reason -->``.  A block that
  needs a tool says which (``<!-- needs: a C compiler -->``, one of `NEEDS`): it runs where
  the tool is and is skipped, saying so, elsewhere.
"""
from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import exprgrad
from helpers import run_cli, run_example

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHELL, PYTHON = ("sh", "bash", "shell", "console"), ("python", "py", "python3", "pycon")
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->")
NEEDS_MARK = re.compile(r"<!--\s*needs:\s*(.+?)\s*-->")
#: what a block may need, and whether this machine has it (compile_c's own search: $CC, cc,
#: gcc, clang)
NEEDS = {"a C compiler": lambda: bool(os.environ.get("CC", "").strip()) or any(
    map(shutil.which, ("cc", "gcc", "clang")))}
SETUP = ("python3 -m venv ", "python -m venv ", ". .venv/bin/activate", "source .venv/bin/activate",
         "pip install ", "python3 -m pip install ", "python -m pip install ")


class Block:
    def __init__(self, line: int, lang: str, text: str, reason: str | None,
                 needs: str | None = None):
        self.line, self.lang, self.text, self.reason = line, lang, text, reason
        self.needs = needs
        self.output: str | None = None       # the unlabelled block that follows a shell block

    def __repr__(self) -> str:
        return f"README.md:{self.line} ({self.lang or 'text'})"


def blocks(text: str) -> list[Block]:
    """Every fenced block with its language, its first line and its not-run reason, if any."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    last_prose = ""          # the last non-blank line outside a block
    previous: Block | None = None
    while i < len(lines):
        fence = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", lines[i])
        if not fence:
            if lines[i].strip():
                last_prose = lines[i].strip()
                previous = None
            i += 1
            continue
        marker, lang = fence.group(2), fence.group(3).lower()
        body = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(marker):
            body.append(lines[j][len(fence.group(1)):])
            j += 1
        reason, needs = NOT_RUN.search(last_prose), NEEDS_MARK.search(last_prose)
        block = Block(i + 1, lang, "\n".join(body), reason.group(1) if reason else None,
                      needs.group(1) if needs else None)
        if not lang and previous is not None and previous.lang in SHELL:
            previous.output = block.text
        found.append(block)
        previous = block
        last_prose = ""
        i = j + 1
    return found


ALL = blocks(README.read_text(encoding="utf-8"))
RUNNABLE = [b for b in ALL if b.lang in SHELL + PYTHON]


def test_the_readme_has_blocks_of_each_kind():
    assert any(b.lang in SHELL and not b.reason for b in RUNNABLE)
    assert any(b.lang in PYTHON and not b.reason for b in RUNNABLE)


def test_the_parser_reads_markers_and_outputs():
    text = ("intro\n\n<!-- not run: needs the network -->\n```sh\npip download x\n```\n\n"
            "```sh\nexprgrad x\n```\n```\nexpected\n```\n\n```python\nprint(1)\n```\n"
            "\n<!-- needs: a C compiler -->\n```python\nprint(2)\n```\n")
    a, b, out, c, d = blocks(text)
    assert (a.lang, a.reason, b.reason, b.output, c.reason) == (
        "sh", "needs the network", None, "expected", None)
    assert out.lang == "" and c.text == "print(1)"
    assert (c.needs, d.needs, d.reason) == (None, "a C compiler", None)


def test_every_need_a_block_names_is_known():
    assert {b.needs for b in ALL if b.needs} <= set(NEEDS)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for folder in ROOT.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            (tmp_path / folder.name).mkdir()
    monkeypatch.chdir(tmp_path)
    # compile_c's cache (the README's compiled-C block) here, not in the user's ~/.cache
    monkeypatch.setenv("EXPRGRAD_CACHE_DIR", str(tmp_path / ".cache"))
    return tmp_path


@pytest.mark.parametrize("block", RUNNABLE, ids=repr)
def test_readme_block(block, workdir):
    if block.reason:
        pytest.skip(f"{block!r} is marked not run: {block.reason}")
    if block.needs and not NEEDS[block.needs]():
        pytest.skip(f"{block!r} needs {block.needs}, which this machine lacks")
    if block.lang in PYTHON:
        run_python(block)
    else:
        run_shell(block)


def run_python(block: Block) -> None:
    if block.text.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(block.text, {}, repr(block), str(README),
                                                   block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE |
                                       doctest.ELLIPSIS)
        out = io.StringIO()
        runner.run(test, out=out.write)
        assert not runner.failures, out.getvalue()
        return
    code = compile(block.text, f"{README}:{block.line}", "exec")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, {"__name__": "__readme__"})          # noqa: S102 - the README's own code


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) in order; `# ...` lines after a command are its output."""
    out: list[tuple[str, list[str]]] = []
    for raw in block.text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            assert out, f"{block!r}: a comment line before any command"
            out[-1][1].append(line[1:].strip())
            continue
        out += [(part.strip(), []) for part in line.split(" && ")]
    return out


def run_shell(block: Block) -> None:
    steps = commands(block)
    for k, (command, expected) in enumerate(steps):
        if command.startswith(SETUP):
            continue
        words = shlex.split(command)
        if words[0] == "exprgrad":
            status, stdout, stderr = run_cli(*words[1:])
        elif words[0] in ("python3", "python"):
            status, stdout, stderr = run_python_process(words[1:])
        else:
            pytest.fail(f"{block!r}: the README test does not know how to run {command!r}; "
                        "mark the block <!-- not run: why --> or teach tests/test_readme.py")
        assert status == 0, f"{block!r}: {command!r} exited {status}\n{stderr}"
        want = expected or (block.output.splitlines() if k == len(steps) - 1 and block.output
                            else None)
        if want:
            assert stdout.rstrip().splitlines() == [w.rstrip() for w in want], command


def run_python_process(argv: list[str]) -> tuple[int, str, str]:
    here = str(Path(exprgrad.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [here, os.getcwd(), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env,
                          timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_examples_install_hints_match_the_readme():
    """Examples tell users to install extras from the checkout, as the README does."""
    readme = README.read_text(encoding="utf-8")
    assert "pip install '.[plot]'" in readme
    for path in [*(ROOT / "examples").glob("*.py"), *(ROOT / "benchmarks").glob("*.py")]:
        for hint in re.findall(r"pip install [^\s`)]+", path.read_text(encoding="utf-8")):
            assert hint.startswith(("pip install '.[", "pip install -e '.[")), (path.name, hint)


def test_the_dask_example_without_dask_says_what_to_install(monkeypatch, capsys):
    # A new user who runs it before installing the extra gets the command, not an ImportError.
    monkeypatch.setitem(sys.modules, "dask", None)              # import dask fails
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(SystemExit) as info:
        run_example("dask_gradients.py", ["--rows", "1e3", "--no-progress"], capsys)
    assert info.value.code == 2
    assert "pip install '.[dask]'" in capsys.readouterr().err
