"""Names for generated code: source names and labels in, identifiers that are safe in a target out.

A name keeps its spelling when it is a valid identifier of the target and is not reserved there
(keywords, builtins, the module aliases and library functions the emitted code calls, the
generated functions' own names).  Otherwise it is renamed deterministically:

1. characters the target does not accept in identifiers are spelled out as ``u<hex>``
   (``θ`` → ``u03b8`` in C); a leading digit gets a ``v`` in front;
2. a reserved or already taken result gets the suffix ``_``, then ``_2``, ``_3``…

Names are claimed in a fixed order (unchanged source names first, then renamed ones, then
generated names), so a user's own ``lambda_`` keeps its name and ``lambda`` becomes
``lambda_2``.  Every rename of a source name is listed in the emitted header.

>>> n = Namer(reserved={"lambda"}, valid=str.isidentifier)
>>> n.claim_all([(1, "lambda"), (2, "lambda_"), (3, "x")])
{2: 'lambda_', 3: 'x', 1: 'lambda_2'}
>>> n.renamed, n.temporary(), n.temporary()
({'lambda': 'lambda_2'}, 't0', 't1')
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable, Iterable

_ASCII_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def python_identifier(name: str) -> bool:
    """Python accepts the name as written (NFKC-normalisation would not merge it with another)."""
    if name.isascii():          # NFKC leaves ASCII as it is (the usual case: no table walk)
        return name.isidentifier()
    return name.isidentifier() and unicodedata.normalize("NFKC", name) == name


def ascii_identifier(name: str) -> bool:
    return bool(_ASCII_IDENT.match(name))


def spell_out(name: str, valid: Callable[[str], bool]) -> str:
    """Replace every character `valid` rejects by ``u<hex>``: a name every target accepts."""
    if valid(name):
        return name
    out = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"u{ord(ch):04x}"
                  for ch in name)
    return out if out and not out[0].isdigit() else "v" + out


class Namer:
    """Hands out distinct identifiers for one emitted file."""

    def __init__(self, reserved: Iterable[str], valid: Callable[[str], bool]):
        self.reserved = frozenset(reserved)
        self.valid = valid
        self.taken: set[str] = set()
        self.renamed: dict[str, str] = {}       # source name -> identifier, renamed ones only
        self._counters: dict[str, int] = {}

    def free(self, name: str) -> bool:
        return name not in self.taken and name not in self.reserved \
            and not (name[:1] == "_" and _reserved_prefix(name))

    def claim(self, wanted: str) -> str:
        base = spell_out(wanted, self.valid)
        name, k = base, 1
        if not self.free(name) and base.startswith("_"):
            name = base = "v" + base           # __builtins__ -> v__builtins__: suffixes can't help
        while not self.free(name):
            name = f"{base}_" if k == 1 else f"{base}_{k}"
            k += 1
        self.taken.add(name)
        return name

    def claim_all(self, wanted: Iterable[tuple]) -> dict:
        """Claim ``(key, source name)`` pairs: names usable as written first, so a rename never
        takes one of them; returns key -> identifier."""
        wanted = list(wanted)
        got = {}
        for key, name in wanted:
            if key not in got and self.valid(name) and self.free(name):
                self.taken.add(name)            # what `claim` does with a usable name
                got[key] = name
        for key, name in wanted:
            if key not in got:
                got[key] = self.claim(name)
                self.renamed[name] = got[key]
        return got

    def temporary(self, prefix: str = "t") -> str:
        """The next free ``t0, t1, ...`` (numbers taken by source names are skipped)."""
        k = self._counters.get(prefix, 0)
        while not self.free(f"{prefix}{k}"):
            k += 1
        self._counters[prefix] = k + 1
        name = f"{prefix}{k}"
        self.taken.add(name)
        return name


def _reserved_prefix(name: str) -> bool:
    # __builtins__, __name__...: special to Python; C reserves "__..." and "_X...".
    return name.startswith("__") or (len(name) > 1 and name[0] == "_" and name[1].isupper())
