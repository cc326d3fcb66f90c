"""The check's report: the figures it gathered → a table, notes, a dict for JSON.

Input: rows filled by check.py, one per variable (the DAG's partial, sympy's, the exp-expanded
closed form's, the finite difference, each with its error), and what was skipped and why.
Output: the text every front end shows (`Report.render`, ``str(report)``, with or without the
symbolic columns), and ``to_dict()`` for ``--json``.  Nothing here computes a figure.

Marks: ✓ the figures agree; ✗ they disagree; ! the finite difference is unreliable here (it
overflowed, its own error estimate is large, or the float forward lost digits against its step)
and stays out of the verdict: the row is judged by the other figures, which agree when they
exist; ~ the point is a kink (not differentiable, the conventions differ, not compared); · no
figure within the budgets; ? nothing to compare with.  Only ✗ fails the check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# "skipped": no figure within the budgets (the notes and the directional check cover it);
# "unchecked": no figure exists at this point (e.g. the value overflows)
# "unreliable": the finite difference could not be trusted (row.fd_unreliable says why)
MARKS = {"agree": "✓", "disagree": "✗", "unreliable": "!", "kink": "~", "skipped": "·",
         "unchecked": "?"}
SYMBOLIC_COLUMNS = ("sympy", "exp-expanded")
_COLOURS = {"agree": "#1e8449", "disagree": "#c0392b", "unreliable": "#b9770e",
            "kink": "#b9770e", "skipped": "#7f8c8d", "unchecked": "#7f8c8d"}


@dataclass
class Row:
    """One variable's figures (or one Hessian entry's); None where a figure is unavailable
    (see `notes`)."""
    name: str
    value: float | None                 # the variable's value at the point (None: an entry)
    dag: float
    sympy: float | None = None
    expanded: float | None = None
    fd: float | None = None
    fd_error: float | None = None       # Ridders' error estimate
    fd_left: float | None = None        # one-sided slopes, at a kink only
    fd_right: float | None = None
    fd_step: float | None = None        # the smallest step it used
    fd_unreliable: str | None = None    # why the finite difference is not trusted (or None)
    compared: int = 0                   # trusted figures the DAG's was compared with
    dag_digits_lost: float | None = None   # a ✗ row: digits the DAG's float figure lost
    abs_err: float = 0.0                # largest |other − DAG| over the available figures
    rel_err: float = 0.0                # abs_err / max(|DAG|, |other|)
    status: str = "agree"               # a key of MARKS
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "disagree"

    @property
    def mark(self) -> str:
        return MARKS[self.status]

    def to_dict(self) -> dict:
        return {"variable": self.name, "value": self.value, "dag": _finite(self.dag),
                "sympy": self.sympy, "exp_expanded": self.expanded, "finite_diff": self.fd,
                "finite_diff_error": self.fd_error, "finite_diff_left": self.fd_left,
                "finite_diff_right": self.fd_right,
                "finite_diff_unreliable": self.fd_unreliable,
                "dag_digits_lost": self.dag_digits_lost,
                "abs_err": _finite(self.abs_err),
                "rel_err": _finite(self.rel_err), "status": self.status, "ok": self.ok,
                "notes": self.notes}


@dataclass
class Directional:
    """∇f·d against a finite difference along d, for gradients too big to check one by one."""
    dag: float
    fd: float | None
    fd_error: float | None
    ok: bool

    def __str__(self) -> str:
        fd = "unavailable" if self.fd is None else _num(self.fd)
        return (f"directional check along a pseudo-random direction: DAG {_num(self.dag)}, "
                f"finite diff {fd} {'✓' if self.ok else '✗'}")


@dataclass
class Report:
    output: str
    value: float
    point: dict[str, float]
    rows: list[Row]
    skipped: dict[str, str] = field(default_factory=dict)   # column → reason
    directional: Directional | None = None
    tolerances: dict[str, float] = field(default_factory=dict)   # check.py's, for the notes
    order: int = 1              # 2: the rows are Hessian entries "a, b" (∂²f/∂a∂b)
    precision: object = None    # precision.Loss: the digits the float forward lost, where

    @property
    def unreliable(self) -> list[str]:
        """The rows whose finite difference is not trusted."""
        return [r.name for r in self.rows if r.fd_unreliable is not None]

    @property
    def compared(self) -> bool:
        """Whether any trusted figure was compared with the DAG's (else the verdict is "?",
        never ✓)."""
        return any(r.compared for r in self.rows) or (
            self.directional is not None and self.directional.fd is not None)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and (self.directional is None
                                                 or self.directional.ok)

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows (strings) of the table that `str()` and the CLI print."""
        figures = [[_num(r.dag), _num(r.sympy, "sympy" in self.skipped),
                    _num(r.expanded, "exp-expanded" in self.skipped), _num(r.fd), r.mark]
                   for r in self.rows]
        tail = ["sympy", "exp-expanded", "finite diff", "agree"]
        if self.order == 2:
            return (["variables", f"∂²{self.output}/∂a∂b", *tail],
                    [[r.name, *f] for r, f in zip(self.rows, figures)])
        return (["variable", "value", f"∂{self.output}/∂variable", *tail],
                [[r.name, repr(r.value), *f] for r, f in zip(self.rows, figures)])

    def notes(self) -> list[str]:
        """The lines under the table: what was skipped and why, kinks, the verdict."""
        lines = []
        for column, reason in self.skipped.items():
            missing = sum(1 for r in self.rows if _figure(r, column) is None)
            lines.append(f"{column}: {missing} of {len(self.rows)} {reason}")
        by_note: dict[str, list[str]] = {}     # one line per note, not per variable
        for r in self.rows:
            for note in r.notes:
                by_note.setdefault(note, []).append(r.name)
        lines += [f"{_names(names)}: {note}" for note, names in by_note.items()]
        if self.precision is not None:
            lines.append(self.precision.note())
        if self.directional is not None:
            lines.append(str(self.directional))
        bad = [r.name for r in self.rows if not r.ok]
        kinks = [r.name for r in self.rows if r.status == "kink"]
        unchecked = [r.name for r in self.rows if r.status == "unchecked"]
        if unchecked:
            lines.append(f"? nothing was compared for {_names(unchecked)}")
        if kinks:
            lines.append(f"~ not differentiable at this point in {_names(kinks)}: the "
                         "figures follow different conventions there and are not compared")
        if self.unreliable:
            lines.append(f"! the finite difference is unreliable for {_names(self.unreliable)} "
                         "and is not part of the verdict")
        if bad:
            why = ""
            if self.precision is not None:
                why = ("; the float forward lost digits at this point (above): the DAG's figure "
                       "inherits the loss, whether or not its rules are right")
            elif all(r.dag_digits_lost is not None for r in self.rows if not r.ok):
                why = ("; the DAG's float figures lost digits at this point (notes above): "
                       "its rules may be right")
            lines.append(f"✗ the figures disagree for {_names(bad)}{why}")
        elif not self.ok:
            lines.append("✗ the directional check disagrees")
        elif not self.compared:
            lines.append("? nothing trustworthy was compared: no disagreement found, none "
                         "ruled out")
        else:
            tol = self.tolerances
            against = [f"finite differences {tol.get('fd_rtol', 0):g}"]
            if any(r.sympy is not None or r.expanded is not None for r in self.rows):
                against.insert(0, f"sympy {tol.get('sym_rtol', 0):g}")
            among = " among the trusted figures" if self.unreliable else ""
            lines.append(f"✓ no disagreement{among} (relative tolerances: "
                         f"{', '.join(against)})")
        return lines

    def render(self, symbolic: bool = True) -> str:
        """The value, the table and the notes; ``symbolic=False`` drops the sympy columns and
        their notes (the CLI's ``--no-check``)."""
        header, rows = self.table()
        notes = self.notes()
        if not symbolic:
            keep = [i for i, h in enumerate(header) if h not in SYMBOLIC_COLUMNS]
            header, rows = [header[i] for i in keep], [[r[i] for i in keep] for r in rows]
            notes = [n for n in notes if not n.startswith(tuple(c + ":" for c in
                                                                 SYMBOLIC_COLUMNS))]
        return "\n".join([f"{self.output} = {_num(self.value)}", "", table(header, rows), "",
                          *notes])

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        verdict = self.notes()[-1] if self.rows or self.directional else "nothing compared"
        what = "variable" if self.order == 1 else "Hessian entr"
        plural = ("s" if self.order == 1 else "ies") if len(self.rows) != 1 else \
            ("" if self.order == 1 else "y")
        return (f"<Report {self.output} = {_num(self.value)}, {len(self.rows)} "
                f"{what}{plural}: {verdict}>")

    def _repr_pretty_(self, p, cycle) -> None:
        """IPython's text display: the whole report, as ``print(report)`` shows it."""
        p.text(self.render())

    def _repr_html_(self) -> str:
        """Notebooks: the table with its ✓/✗/~ marks coloured, and the notes under it."""
        from html import escape
        header, rows = self.table()
        cell = "padding:0 0.6em;text-align:{}"
        head = "".join(f'<th style="{cell.format("left")}">{escape(h)}</th>' for h in header)
        body = []
        for r, row in zip(self.rows, rows):
            tds = [f'<td style="{cell.format("left" if i == 0 else "right")}">{escape(c)}</td>'
                   for i, c in enumerate(row[:-1])]
            tds.append(f'<td style="{cell.format("center")};color:{_COLOURS[r.status]}" '
                       f'title="{r.status}">{escape(r.mark)}</td>')
            body.append(f"<tr>{''.join(tds)}</tr>")
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes())
        return (f"<div><p><b>{escape(self.output)} = {escape(_num(self.value))}</b></p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                f'<ul style="list-style:none;padding-left:0">{notes}</ul></div>')

    def to_dict(self) -> dict:
        return {"ok": self.ok, "order": self.order, "compared": self.compared,
                "unreliable": self.unreliable,
                "precision": None if self.precision is None else self.precision.to_dict(),
                "rows": {r.name: r.to_dict() for r in self.rows},
                "skipped": dict(self.skipped),
                "directional": None if self.directional is None else {
                    "dag": _finite(self.directional.dag), "finite_diff": self.directional.fd,
                    "finite_diff_error": self.directional.fd_error,
                    "ok": self.directional.ok},
                "tolerances": dict(self.tolerances)}


def _names(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _figure(row: Row, column: str) -> float | None:
    return {"sympy": row.sympy, "exp-expanded": row.expanded, "finite diff": row.fd}[column]


def _num(x: float | None, skipped: bool = False) -> str:
    if x is None:
        return "skipped" if skipped else "—"
    return f"{x:.12g}"


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: columns padded to their widest cell, a rule under the header."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)
