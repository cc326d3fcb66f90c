"""Parse speed: CPU µs per token of exprgrad's parse and of lark's own options, side by side.

    python benchmarks/parse_speed.py [--quick] [--repeat N]

Input: the texts of `programs` (W4 at n = 10,000; the chain nested and as statements; the
pendulum), at sizes where every driver takes about a second.  Output: a Markdown table of CPU
microseconds per token (the best of `--repeat` runs, the collector paused as exprgrad.parse
pauses it) for

- ``exprgrad.parse``: text → AST as shipped (whichever driver the checkout has);
- the fast loop alone (``lalr.run``), when the checkout has it;
- lark with exprgrad's transformer (`ToAst`): contextual lexer (what lark's driver uses, with
  the newline post-lexer on multi-line text), basic lexer;
- lark with callbacks that do nothing (what lark itself costs: lexing, LALR, its callback
  wrappers), and lark's lexer alone;
- the same under lark-cython (`_plugins=lark_cython.plugins`) when it is installed;

then the start-up costs: ``import lark``, building the Lark parser from the grammar (and with
lark's ``cache=``), loading the shipped table, and the memory an AST takes per token.  Run it
from another checkout's benchmarks/ folder to compare before and after.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))          # exprgrad from the checkout

import programs  # noqa: E402

TEXTS = (("w4", 10_000), ("chain", 20_000), ("chain_lines", 20_000), ("pendulum", 20_000))


class NoOp:
    """lark callbacks that build nothing: what remains is lark's own work."""

    def __getattr__(self, name):
        if name.startswith("_"):       # lark inlines `_rule`s and its helpers itself
            raise AttributeError(name)
        return lambda children: None


def best(fn, text, repeat):
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        start = time.process_time()
        result = fn(text)
        times.append(time.process_time() - start)
        gc.enable()
        del result
    return min(times)


def drivers(P):
    """name → parse function, for the checkout's exprgrad.parse module `P`."""
    from lark import Lark
    grammar = P.grammar_text()

    def lark_parser(transformer, lexer="contextual", plugins=None):
        """As exprgrad's lark driver: the newline post-lexer only for multi-line text."""
        options = dict(start="program", parser="lalr", lexer=lexer, transformer=transformer,
                       propagate_positions=False, maybe_placeholders=True)
        if plugins:
            options["_plugins"] = plugins
        single = Lark(grammar, **options)
        try:
            multi = Lark(grammar, postlex=P._DropNewlinesInParens(), **options)
            multi.parse("x\n")
        except AttributeError:          # lark-cython 0.0.17 cannot run a post-lexer
            multi = None

        def parse(text):
            if "\n" in text and multi is None:
                raise NotImplementedError("no post-lexer")
            return (multi if "\n" in text else single).parse(text)
        return parse

    out = {"exprgrad.parse (as shipped)": P.parse}
    try:
        lalr = importlib.import_module("exprgrad.lalr")
        table = P._fast_table()
        out["fast loop alone (lalr.run)"] = lambda text: lalr.run(text, table)
    except ImportError:
        pass
    out["lark contextual + ToAst (+ post-lexer on new lines)"] = lark_parser(P.ToAst())
    out["lark basic + ToAst"] = lark_parser(P.ToAst(), lexer="basic")
    out["lark contextual, no-op callbacks"] = lark_parser(NoOp())
    lexer = Lark(grammar, start="program", parser="lalr", lexer="basic")
    out["lark lexer alone"] = lambda text: sum(1 for _ in lexer.lex(text))
    try:
        import lark_cython
    except ImportError:
        out["lark-cython"] = None
    else:
        out["lark-cython contextual + ToAst"] = lark_parser(P.ToAst(),
                                                            plugins=lark_cython.plugins)
        out["lark-cython contextual, no-op callbacks"] = lark_parser(
            NoOp(), plugins=lark_cython.plugins)
    return out


def startup(P) -> list[tuple[str, float]]:
    """CPU seconds of the one-time costs, each in a fresh interpreter."""
    root = str(HERE.parent)
    grammar = P.grammar_text()
    cache = Path(tempfile.mkdtemp()) / "lark.cache"
    code = {
        "import lark": "import lark",
        "Lark(grammar) after import lark, no cache": "Lark(G, parser='lalr', start='program')",
        "Lark(grammar) after import lark, lark's cache= (warm)": (
            "Lark(G, parser='lalr', start='program', cache=C)"),
        "first exprgrad.parse('x') after import exprgrad": "exprgrad.parse('x')",
    }
    prelude = {"first exprgrad.parse('x') after import exprgrad": "import exprgrad",
               "Lark(grammar) after import lark, no cache": "from lark import Lark",
               "Lark(grammar) after import lark, lark's cache= (warm)": "from lark import Lark"}
    out = []
    for name, stmt in code.items():
        script = (f"import sys, time; sys.path.insert(0, {root!r}); G = {grammar!r}; "
                  f"C = {str(cache)!r}; {prelude.get(name, 'pass')}; "
                  f"t = time.process_time(); {stmt}; print(time.process_time() - t)")
        if "cache=" in stmt:
            subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
        runs = [float(subprocess.run([sys.executable, "-c", script], capture_output=True,
                                     text=True, check=True).stdout) for _ in range(5)]
        out.append((name, min(runs)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    P = importlib.import_module("exprgrad.parse")
    fns = drivers(P)
    texts = [programs.make(name, size // 10 if args.quick else size) for name, size in TEXTS]
    from lark import Lark
    lexer = Lark(P.grammar_text(), start="program", parser="lalr", lexer="basic")
    tokens = [sum(1 for _ in lexer.lex(p.text)) for p in texts]
    head = ["driver"] + [f"{p.name} {p.size:,} ({n:,} tokens)" for p, n in zip(texts, tokens)]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name, fn in fns.items():
        if fn is None:
            print(f"| {name} | not installed |")
            continue
        cells = []
        for p, n in zip(texts, tokens):
            try:
                cells.append(f"{best(fn, p.text, args.repeat) / n * 1e6:.2f}")
            except NotImplementedError as exc:
                cells.append(f"n/a ({exc})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nCPU µs per token (best of %d).\n" % args.repeat)
    tracemalloc.start()
    tree = P.parse(texts[0].text)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del tree
    print(f"AST of {texts[0].name} {texts[0].size:,}: {size / tokens[0]:.0f} bytes per token "
          "(tracemalloc)\n")
    print("| one-time cost (fresh interpreter) | CPU |\n|---|---|")
    for name, seconds in startup(P):
        print(f"| {name} | {seconds * 1e3:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
