"""The C backend: C99 with <math.h>, doubles in and out through arrays.

Input: the statements the printer chose.  Output: a translation unit that includes only
``<math.h>`` and compiles warning-free with ``cc -std=c99 -Wall -Wextra -Werror``.  The
arguments arrive in one array, in the documented order; the first result, when it is a scalar,
is the return value, and every other result is written to an array of its own, row-major::

    double f(const double *in);                            /* the value */
    double grad_f(const double *in, double *grad_out);     /* value; grad_out[i] = ∂f/∂in[i] */

Identifiers are ASCII (C99 compilers differ on extended characters): ``θ`` becomes ``u03b8``.
"""
from __future__ import annotations

from ..program import RESULT_NAMES
from .backend import Backend, Returned
from .python import matrix_doc
from .naming import ascii_identifier

IN = "in"

_KEYWORDS = """auto break case char const continue default do double else enum extern float for
goto if inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool _Complex _Imaginary bool true false complex imaginary
main asm fortran""".split()
# <math.h> of C99 (functions, their f/l variants, function-like and object-like macros): a local
# variable must never shadow a function the forms call nor collide with a macro.
_MATH = """acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2 expm1 frexp
ilogb ldexp log log10 log1p log2 logb modf scalbn scalbln cbrt fabs hypot pow sqrt erf erfc lgamma
tgamma ceil floor nearbyint rint lrint llrint round lround llround trunc fmod remainder remquo
copysign nan nextafter nexttoward fdim fmax fmin fma fpclassify isfinite isinf isnan isnormal
signbit isgreater isgreaterequal isless islessequal islessgreater isunordered""".split()
_MACROS = """HUGE_VAL HUGE_VALF HUGE_VALL INFINITY NAN FP_INFINITE FP_NAN FP_NORMAL FP_SUBNORMAL
FP_ZERO FP_FAST_FMA FP_FAST_FMAF FP_FAST_FMAL FP_ILOGB0 FP_ILOGBNAN MATH_ERRNO MATH_ERREXCEPT
math_errhandling float_t double_t EDOM ERANGE EILSEQ errno NULL M_PI M_E signgam gamma j0 j1 jn
y0 y1 yn drem finite scalb significand""".split()


def out_name(result: str) -> str:
    """The out-parameter of a result: grad → grad_out."""
    return f"{result}_out"


RESERVED = frozenset(_KEYWORDS) | frozenset(_MATH) \
    | {f"{name}{suffix}" for name in _MATH for suffix in "fl"} | frozenset(_MACROS) | {IN} \
    | {out_name(r) for r in RESULT_NAMES}


def comment(text: str) -> str:
    # A comment ends at "*/"; "/*" and trigraphs ("??/") inside one draw warnings.
    safe = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    return f"/* {safe} */" if safe else "/* */"


def _returns_scalar(results) -> bool:
    return bool(results) and not results[0].shape


def prototype(name: str, params: list[str], results) -> str:
    outs = results[1:] if _returns_scalar(results) else results
    args = [f"const double *{IN}"] + [f"double *{out_name(r.name)}" for r in outs]
    kind = "double" if _returns_scalar(results) else "void"
    return f"{kind} {name}({', '.join(args)})"


def signature(name: str, params: list[str], results) -> list[str]:
    return [prototype(name, params, results), "{"]


def prologue(params: list[str], used: set[str]) -> list[str]:
    lines = [f"    const double {p} = {IN}[{i}];" for i, p in enumerate(params) if p in used]
    return lines or [f"    (void){IN};"]


def statement(name: str, expr: str) -> str:
    return f"    const double {name} = {expr};"


def body_comment(text: str) -> str:
    return f"    {comment(text)}"


def returns(results: list[Returned]) -> list[str]:
    outs = results[1:] if _returns_scalar(results) else results
    lines = []
    for r in outs:
        target = out_name(r.name)
        lines += [f"    {target}[{i}] = {text};" + (f"  {comment(label)}" if text != label else "")
                  for i, (text, label) in enumerate(zip(r.texts, r.labels))]
        if not r.texts:
            lines.append(f"    (void){target};")
    if _returns_scalar(results):
        lines.append(f"    return {results[0].texts[0]};")
    return lines


def end() -> list[str]:
    return ["}"]


def describe(name: str, params: list[str], results: list[Returned]) -> list[str]:
    lines = [prototype(name, params, results)]
    if _returns_scalar(results):
        lines.append(f"    returns {results[0].labels[0]}")
    lines.append(f"    {IN} = {{{', '.join(params) or '(none)'}}}")
    for r in (results[1:] if _returns_scalar(results) else results):
        if len(r.shape) == 2:
            value = results[0].labels[0] if _returns_scalar(results) else "the values"
            lines.append(f"    {out_name(r.name)}[{r.shape[1]}*i + j] = "
                         f"{matrix_doc(r, value).split(' = ', 1)[1]}, row-major")
        else:
            lines.append(f"    {out_name(r.name)} = {{{', '.join(r.labels) or '(none)'}}}")
    return lines


def header(name: str, params: list[str], results) -> list[str]:
    return [f"{prototype(name, params, results)};"]


C = Backend(
    name="c", call="{}", functions={}, imports=("#include <math.h>",), reserved=RESERVED,
    valid=ascii_identifier, inf="HUGE_VAL", comment=comment, signature=signature,
    prologue=prologue, statement=statement, body_comment=body_comment, returns=returns,
    end=end, describe=describe, header=header, extension=".c")
