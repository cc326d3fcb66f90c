"""Start-up stays light: heavy libraries are imported only by the paths that need them.

Structural, not timed (benchmarks/startup.py measures the seconds): numpy (compiled training,
arrays), sympy (closed forms, the check's symbolic side) and graphviz (pictures) are each
~0.05–0.5 s of imports, so `import exprgrad` and a command line that needs none of them must
not load them.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "sympy", "graphviz", "lark")


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_import_exprgrad_imports_no_heavy_library():
    assert _loaded_after("import exprgrad") == []


def test_a_gradient_imports_no_heavy_library():
    code = ("import exprgrad\nf = exprgrad.compile('n = x*w + b; o = tanh(n)')\n"
            "for _ in range(3): f.grad(x=1, w=2, b=3)\nf(x=1, w=2, b=3)")
    assert _loaded_after(code) == []


def test_the_command_line_without_the_check_imports_no_heavy_library():
    code = ("import io, contextlib, exprgrad.cli as cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert cli.main(['x*y', '--at', 'x=1', 'y=2', '--no-check']) == 0")
    assert _loaded_after(code) == []


def test_lazy_names_resolve():
    code = ("import exprgrad\nfrom exprgrad import draw_dot, compile_loss\n"
            "assert exprgrad.CompiledForward.__name__ == 'CompiledForward'\n"
            "assert 'draw_dot' in dir(exprgrad)")
    assert set(_loaded_after(code)) == {"numpy", "graphviz"}
