"""Long C functions printed as parts (codegen/emit.py `FunctionPrinter.split`, c.py `split`),
compiled warning-free and called: the parts give the floats of the one function they replace.

The threshold is lowered through `emit(..., max_statements=k)` so that the splitting path runs
on small programs of every shape (several results, second order, constants, names that
collide with the generated ones); one program above the default threshold runs as users get it.
"""
from __future__ import annotations

import ctypes
import random
import re
import sys
from pathlib import Path

import pytest

import exprgrad as eg
from exprgrad import codegen
from exprgrad.codegen import c as cbackend

from corpus import CORPUS
from helpers import call_c, close, compile_c, needs_cc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import programs  # noqa: E402  (the W4 text and its hand-written gradient)

SIZES = (1, 2, 3, 7)         # parts of one statement (every value crosses) up to a few


def _call(lib, fname: str, n_in: int, outs: list[int], returns: bool = True):
    """``fname(in, out_1, ...)`` → (its return value or None, the out arrays)."""
    fn = getattr(lib, fname)
    fn.restype = ctypes.c_double if returns else None
    ins = (ctypes.c_double * max(1, n_in))(*[0.3 + 0.17 * i for i in range(n_in)])
    arrays = [(ctypes.c_double * max(1, k))() for k in outs]
    value = fn(ins, *arrays)
    return value, [list(a)[:k] for a, k in zip(arrays, outs)]


@needs_cc
def test_parts_give_the_floats_of_one_function(tmp_path):
    """Every corpus program, split at every size, against the same C unsplit: bit for bit."""
    functions = [eg.compile(text) for text, _ in CORPUS]
    sources = []
    for i, f in enumerate(functions):
        sources.append(codegen.emit(f.ir, "c", name=f"whole{i}"))
        sources += [codegen.emit(f.ir, "c", name=f"p{k}_{i}", max_statements=k) for k in SIZES]
    assert all("static" not in s for s in sources[::len(SIZES) + 1])
    assert any("_part2(" in s for s in sources)
    lib = compile_c(sources, tmp_path)
    rng = random.Random(15)
    for i, ((text, domains), f) in enumerate(zip(CORPUS, functions)):
        xs = [rng.uniform(*domains.get(v, (0.5, 1.5))) for v in f.variables]
        whole = call_c(lib, f"whole{i}", xs)
        for k in SIZES:
            assert call_c(lib, f"p{k}_{i}", xs) == whole, (text, k)


@needs_cc
def test_parts_of_second_order_and_several_outputs(tmp_path):
    """hess_f and hvp_f (two out-arrays), a Jacobian (no scalar return: void functions) and a
    constant with an empty gradient, split at several sizes and unsplit (k = 0)."""
    f = eg.compile("y = x*x*z; sin(y)*exp(z)/y + z")
    jac = eg.compile("p = x*y + sin(x); r = p*p - y; p, r")
    const = eg.compile("3.5")
    sizes = (None, 1, 2, 5)
    sources = [codegen.emit(f.ir, "c", name=f"h{k}", order=2, max_statements=m)
               for k, m in enumerate(sizes)]
    sources += [codegen.emit(jac.ir, "c", name=f"jf{k}", max_statements=m)
                for k, m in enumerate(sizes)]
    sources += [codegen.emit(const.ir, "c", name=f"c{k}", max_statements=m)
                for k, m in enumerate(sizes[:2])]
    lib = compile_c(sources, tmp_path)
    for fname, outs, returns in (("hess_h{}", [2, 4], True), ("hvp_h{}", [2, 2], True),
                                 ("grad_h{}", [2], True), ("h{}", [], True),
                                 ("jf{}", [2], False), ("jac_jf{}", [2, 4], False)):
        got = [_call(lib, fname.format(k), 4, outs, returns) for k in range(len(sizes))]
        assert got[1:] == got[:1] * (len(sizes) - 1), fname
    assert call_c(lib, "c1", []) == call_c(lib, "c0", []) == (3.5, [])


@needs_cc
def test_generated_names_never_take_a_programs_names(tmp_path):
    """A program whose variables are called like the generated names (scratch, the parts, in,
    grad_out) keeps its names where it can; the parts and the scratch array go around them."""
    f = eg.compile("scratch*g_part1 + sin(grad_g_part2*scratch_) + in*grad_out + tanh(scratch)")
    whole = codegen.emit(f.ir, "c")
    split = codegen.emit(f.ir, "c", name="g", max_statements=2)
    assert "scratch -> " not in split and "g_part1 -> " not in split
    assert re.search(r"double \*scratch_2\b", split)   # scratch and scratch_ are the program's
    lib = compile_c([whole, split], tmp_path)
    xs = [0.2 + 0.1 * i for i in range(len(f.variables))]
    assert call_c(lib, "g", xs) == call_c(lib, "f", xs)


def test_small_functions_stay_one_function():
    """Below the threshold the C is one function per entry, as it always was."""
    f = eg.compile("n = x1*w1 + x2*w2 + b; o = tanh(n)")
    src = codegen.emit(f.ir, "c")
    assert "static" not in src and "scratch" not in src
    assert codegen.emit(f.ir, "c", max_statements=cbackend.MAX_STATEMENTS) == src
    assert codegen.emit(f.ir, "c", max_statements=10**9) == src


def _check_w4(n: int, tmp_path) -> str:
    """W4 of n terms as users get it: the C agrees with the emitted Python to the last bit."""
    prog = programs.w4(n)
    f = eg.compile(prog.text)
    src = codegen.emit(f.ir, "c")
    xs = [prog.point[v] for v in f.variables]
    value, grads = call_c(compile_c([src], tmp_path), "f", xs)
    _, grad_py = codegen.load_python(codegen.emit(f.ir, "python"))
    py_value, py_grads = grad_py(*xs)
    assert (value, grads) == (py_value, list(py_grads))
    limit = programs.load_limit(prog.limit)(*xs)      # and the hand-written gradient, to rounding
    assert close(value, limit[0], 1e-12) and all(close(a, b, 1e-12)
                                                 for a, b in zip(grads, limit[1]))
    return src


@needs_cc
def test_a_program_past_the_threshold_is_split_by_default(tmp_path):
    src = _check_w4(500, tmp_path)          # 5,000 ops: grad_f has 3,000 statements and entries
    parts = re.findall(r"static \w+ (grad_f_part\d+)\(", src)
    assert len(parts) >= 3000 // cbackend.PART_STATEMENTS
    for body in re.findall(r"static \w+ grad_f_part\d+\([^)]*\)\n\{\n(.*?)\n\}", src, re.S):
        own = [line for line in body.split("\n") if not re.match(
            r"    (const double \w+ = (in|scratch)\[\d+\];|scratch\[\d+\] = \w+;|/\*)", line)]
        assert len(own) <= cbackend.PART_STATEMENTS         # besides its loads and stores


@pytest.mark.slow
@needs_cc
def test_a_hundred_thousand_operations(tmp_path):
    _check_w4(9091, tmp_path)               # 100,000 ops: gcc -O2 in about 50 s CPU
