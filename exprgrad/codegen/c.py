"""The C backend's data: header, signature and statement syntax for C99 with <math.h>.

Input: the statements `exprgrad.codegen` chose (expression texts built from the ``c`` snippets
of `exprgrad.ops`); output: a translation unit that includes only ``<math.h>`` and compiles
warning-free with ``cc -std=c99 -Wall -Wextra -Werror``.  Signatures::

    double f(const double *in);                    /* in[i]: the i-th variable, sorted by name */
    double grad_f(const double *in, double *grad_out);   /* returns the value; grad_out[i] =
                                                             d value / d in[i] */

Identifiers are ASCII (C99 compilers differ on extended characters): ``θ`` becomes ``u03b8``.
"""
from __future__ import annotations

from .naming import ascii_identifier

SNIPPET = "c"
COMMENT = "/*"
INF = "HUGE_VAL"
IMPORTS = ["#include <math.h>"]
valid = ascii_identifier
IN, OUT = "in", "grad_out"

_KEYWORDS = """auto break case char const continue default do double else enum extern float for
goto if inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool _Complex _Imaginary bool true false complex imaginary
main asm fortran""".split()
# <math.h> of C99 (functions, their f/l variants, function-like and object-like macros): a local
# variable must never shadow a function the snippets call nor collide with a macro.
_MATH = """acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2 expm1 frexp
ilogb ldexp log log10 log1p log2 logb modf scalbn scalbln cbrt fabs hypot pow sqrt erf erfc lgamma
tgamma ceil floor nearbyint rint lrint llrint round lround llround trunc fmod remainder remquo
copysign nan nextafter nexttoward fdim fmax fmin fma fpclassify isfinite isinf isnan isnormal
signbit isgreater isgreaterequal isless islessequal islessgreater isunordered""".split()
_MACROS = """HUGE_VAL HUGE_VALF HUGE_VALL INFINITY NAN FP_INFINITE FP_NAN FP_NORMAL FP_SUBNORMAL
FP_ZERO FP_FAST_FMA FP_FAST_FMAF FP_FAST_FMAL FP_ILOGB0 FP_ILOGBNAN MATH_ERRNO MATH_ERREXCEPT
math_errhandling float_t double_t EDOM ERANGE EILSEQ errno NULL M_PI M_E signgam gamma j0 j1 jn
y0 y1 yn drem finite scalb significand""".split()
RESERVED = frozenset(_KEYWORDS) | frozenset(_MATH) \
    | {f"{name}{suffix}" for name in _MATH for suffix in "fl"} | frozenset(_MACROS) | {IN, OUT}


def comment(text: str) -> str:
    # A comment ends at "*/"; "/*" and trigraphs ("??/") inside one draw warnings.
    safe = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    return f"/* {safe} */" if safe else "/* */"


def signature(kind: str, name: str, params: list[str]) -> list[str]:
    args = f"const double *{IN}" + (f", double *{OUT}" if kind == "grad" else "")
    return [f"double {name}({args})", "{"]


def prologue(params: list[str], used: set[str]) -> list[str]:
    lines = [f"    const double {p} = {IN}[{i}];" for i, p in enumerate(params) if p in used]
    return lines or [f"    (void){IN};"]


def statement(name: str, expr: str) -> str:
    return f"    const double {name} = {expr};"


def body_comment(text: str) -> str:
    return f"    {comment(text)}"


def value_return(value: str) -> list[str]:
    return [f"    return {value};"]


def grad_return(value: str, grads: list[str], names: list[str]) -> list[str]:
    writes = [f"    {OUT}[{i}] = {g};" + (f"  {comment(n)}" if g != n else "")
              for i, (g, n) in enumerate(zip(grads, names))] or [f"    (void){OUT};"]
    return writes + [f"    return {value};"]


def end() -> list[str]:
    return ["}"]


def describe(name: str, grad_name: str, params: list[str], value: str,
             grads: list[str]) -> list[str]:
    ins = ", ".join(params) or "(none)"
    outs = ", ".join(grads) or "(none)"
    return [f"double {name}(const double *{IN}) returns {value}",
            f"double {grad_name}(const double *{IN}, double *{OUT}) returns {value} and writes "
            f"{OUT}[0..{len(grads) - 1}]" if grads else
            f"double {grad_name}(const double *{IN}, double *{OUT}) returns {value}",
            f"    {IN} = {{{ins}}}",
            f"    {OUT} = {{{outs}}}: the partial derivatives, in the order of {IN}"]
