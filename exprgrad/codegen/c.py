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

import re

from ..program import RESULT_NAMES
from .backend import Backend, Part, Returned
from .python import matrix_doc
from .naming import ascii_identifier

IN = "in"
# Statements (and result entries) of one C function: a longer one is printed as parts of
# PART_STATEMENTS (see split).  gcc 12 -O2 takes time superlinear in a function's length (values
# live across many calls of tanh, exp...): W4's 10^4 ops compile in 26 s as one function, in
# 4-5 s as parts of 100-250 and 14 s as parts of 2,000 (CPU, loaded 2-core VM).  A function of
# 2,000 still compiles in a second or two, and stays one readable function.
MAX_STATEMENTS = 2000
PART_STATEMENTS = 200

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


# The rest of the C99 library, functions and macros: emitted code pasted next to <stdlib.h> or
# <stdio.h> must not collide with them, and a function named `malloc` or `exit` would replace
# the library's for the whole program (C99 7.1.3: reserved for external linkage).
_LIBC = """abort abs atexit atof atoi atol atoll bsearch calloc div exit _Exit free getenv labs
ldiv llabs lldiv malloc mblen mbstowcs mbtowc qsort rand realloc srand strtod strtof strtol
strtold strtoll strtoul strtoull system wcstombs wctomb EXIT_FAILURE EXIT_SUCCESS MB_CUR_MAX
RAND_MAX size_t wchar_t div_t ldiv_t lldiv_t
clearerr fclose feof ferror fflush fgetc fgetpos fgets fopen fprintf fputc fputs fread freopen
fscanf fseek fsetpos ftell fwrite getc getchar gets perror printf putc putchar puts remove rename
rewind scanf setbuf setvbuf snprintf sprintf sscanf tmpfile tmpnam ungetc vfprintf vfscanf vprintf
vscanf vsnprintf vsprintf vsscanf BUFSIZ EOF FILENAME_MAX FOPEN_MAX L_tmpnam SEEK_CUR SEEK_END
SEEK_SET TMP_MAX stderr stdin stdout FILE fpos_t
memchr memcmp memcpy memmove memset strcat strchr strcmp strcoll strcpy strcspn strerror strlen
strncat strncmp strncpy strpbrk strrchr strspn strstr strtok strxfrm
isalnum isalpha isblank iscntrl isdigit isgraph islower isprint ispunct isspace isupper isxdigit
tolower toupper assert setjmp longjmp jmp_buf signal raise sig_atomic_t clock difftime mktime
time asctime ctime gmtime localtime strftime clock_t time_t CLOCKS_PER_SEC setlocale localeconv
va_start va_arg va_end va_copy va_list offsetof ptrdiff_t and and_eq bitand bitor compl not
not_eq or or_eq xor xor_eq""".split()
RESERVED = frozenset(_KEYWORDS) | frozenset(_MATH) \
    | {f"{name}{suffix}" for name in _MATH for suffix in "fl"} | frozenset(_MACROS) \
    | frozenset(_LIBC) | {IN} | {out_name(r) for r in RESULT_NAMES}

# Names the C standard reserves for the library's future functions and macros (C99 7.26, 7.1.3):
# a function of ours, with external linkage, may not take them.
_FUTURE = [(r"(is|to)[a-z]", "<ctype.h>"), (r"(str|mem|wcs)[a-z]", "<string.h> and <stdlib.h>"),
           (r"E[0-9A-Z]", "<errno.h>"), (r"(SIG_?|LC_)[A-Z]", "<signal.h> and <locale.h>"),
           (r"(PRI|SCN)[a-zX]", "<inttypes.h>"), (r"u?int\w*_t\Z", "<stdint.h>"),
           (r"_", "the implementation at file scope")]


def library_name(name: str) -> str | None:
    """Why C reserves the function name `name`, or None: a keyword, a name of the library, or
    one of the patterns C keeps for the library's future (``isfoo``, ``strfoo``, ``E1``, ``_f``)."""
    if name in _KEYWORDS:
        return "it is a C keyword"
    if name in RESERVED:
        return "it is a name of the C standard library"
    for pattern, owner in _FUTURE:
        if re.match(pattern, name):
            return f"names like it are reserved for {owner}"
    return None


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


def _entry(r: Returned, i: int, text: str, label: str) -> str:
    return f"    {out_name(r.name)}[{i}] = {text};" + (f"  {comment(label)}" if text != label
                                                        else "")


def returns(results: list[Returned]) -> list[str]:
    outs = results[1:] if _returns_scalar(results) else results
    lines = []
    for r in outs:
        target = out_name(r.name)
        lines += [_entry(r, i, text, label)
                  for i, (text, label) in enumerate(zip(r.texts, r.labels))]
        if not r.texts:
            lines.append(f"    (void){target};")
    if _returns_scalar(results):
        lines.append(f"    return {results[0].texts[0]};")
    return lines


def split(name: str, params: list[str], results: list[Returned], parts: list[Part], slots: int,
          scratch: str) -> list[str]:
    """A long function as ``static`` parts ``<name>_part1, ...`` called in order by the
    function itself, whose prototype is unchanged (see `FunctionPrinter.split`).  Each part
    takes only what it uses: ``in``, the scratch array (``double scratch[slots]``, on the
    function's stack), the out-parameters it writes; the last part returns the value."""
    scalar = _returns_scalar(results)
    lines = [comment(f"{name} in {len(parts)} parts (C compilers optimise one long function "
                     f"in more than linear time); a value that a later part uses passes "
                     f"through {scratch}[]"), ""]
    calls, touched, reads_in = [], set(), False
    for k, part in enumerate(parts, 1):
        body, kinds, writes, returned = [], set(), set(), False
        for item in part.items:
            if isinstance(item, str):
                body.append(item)
                continue
            kinds.add(item[0])
            if item[0] == "param":
                body.append(f"    const double {item[2]} = {IN}[{item[1]}];")
            elif item[0] == "load":
                body.append(f"    const double {item[2]} = {scratch}[{item[1]}];")
            elif item[0] == "store":
                body.append(f"    {scratch}[{item[1]}] = {item[2]};")
            elif scalar and item[1] == 0:
                returned = True
            else:
                writes.add(item[1])
                body.append(_entry(results[item[1]], *item[2:]))
        if returned:
            body.append(f"    return {results[0].texts[0]};")
        touched |= writes
        reads_in |= "param" in kinds
        args = ([f"const double *{IN}"] if "param" in kinds else []) \
            + ([f"double *{scratch}"] if kinds & {"load", "store"} else []) \
            + [f"double *{out_name(results[j].name)}" for j in sorted(writes)]
        fname = f"{name}_part{k}"
        lines += [f"static {'double' if returned else 'void'} {fname}"
                  f"({', '.join(args) or 'void'})", "{"] + body + ["}", "", ""]
        call = f"{fname}({', '.join(a.rsplit('*', 1)[1] for a in args)});"
        calls.append(f"    return {call}" if returned else f"    {call}")
    unused = ([] if reads_in else [IN]) + [out_name(r.name) for j, r in enumerate(results)
                                           if j not in touched and not (scalar and j == 0)]
    return (lines + signature(name, params, results) + [f"    (void){v};" for v in unused]
            + ([f"    double {scratch}[{slots}];"] if slots else []) + calls + end())


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
    end=end, describe=describe, header=header, extension=".c", library_name=library_name,
    split=split, max_statements=MAX_STATEMENTS,
    part_statements=PART_STATEMENTS)
