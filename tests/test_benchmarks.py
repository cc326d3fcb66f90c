"""The benchmark runner: tables with ratios, numbers checked against the reference before timing.

Runs `benchmarks/run.py --quick --only W1` as a user does (peers that are not installed are
reported as missing) and the harness on a deliberately wrong candidate.  Timings are never
asserted: only that they are reported, as ratios to a reference measured in the same run.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def test_quick_w1_prints_a_table_with_ratios_and_verified_rows(tmp_path):
    out_json = tmp_path / "w1.json"
    # --no-peers keeps it fast where peers are installed; in CI they are missing anyway.
    run = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--only", "W1",
                          "--no-peers", "--json", str(out_json)], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    text = run.stdout
    assert "### W1 — seed neuron" in text
    assert "| implementation | median | min | max | × reference | checked |" in text
    assert "| hand-written python (math.tanh) |" in text and "| 1.00× | reference |" in text
    lines = text.splitlines()
    start = lines.index("| implementation | median | min | max | × reference | checked |")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    timed = [r for r in rows if re.search(r"\| \d+(\.\d+)?× \|", r)]
    assert any("f.grad(**pt)" in r for r in timed)
    assert any("Value graph built + backward" in r for r in timed)
    for row in timed:               # every timed row was checked against the reference first
        assert "✓ matches reference" in row or "| reference |" in row, row
    assert "### Targets" in text and "≤ 1.1×" in text

    data = json.loads(out_json.read_text())
    table = data["workloads"]["W1"]["tables"][0]
    assert table["reference"] == "hand-written python (math.tanh)"
    assert any(r["status"] == "missing" and r["kind"] == "micrograd" for r in table["rows"])
    for row in table["rows"]:
        assert row["status"] in ("ok", "missing"), row
        if row["status"] == "ok":
            assert row["verified"] is True and row["ratio_to_reference"] > 0
            assert row["min_s"] <= row["median_s"] <= row["max_s"]
    assert set(data["peers"]) == {"micrograd", "sympy", "jax", "torch", "casadi", "numexpr"}


def test_a_wrong_candidate_is_reported_and_never_timed():
    sys.path.insert(0, str(BENCH))
    try:
        from harness import Bench, Settings, Table, markdown
    finally:
        sys.path.remove(str(BENCH))
    calls = []
    table = Table("T", "toy")
    bench = Bench(table, Settings(quick=True))
    bench.reference("exact", lambda: (1.0, (2.0, 3.0)))
    bench.add("off by a little", lambda: calls.append(1) or (1.0, (2.0, 3.0001)))
    bench.add("right", lambda: (1.0, (2.0, 3.0)))
    bench.run(samples=2)
    wrong, right = table.rows[1], table.rows[2]
    assert wrong.status == "wrong" and "item 2" in wrong.note and wrong.median is None
    assert calls == [1]              # called once to check, never timed
    assert right.status == "ok" and right.median > 0
    assert "wrong: does not match the reference" in markdown(table)


def test_quick_run_never_writes_the_tracked_results():
    sys.path.insert(0, str(BENCH))
    try:
        from run import default_json
    finally:
        sys.path.remove(str(BENCH))
    quick = default_json(quick=True)
    assert quick.parent == BENCH / "results"
    assert quick.name not in {p.name for p in (BENCH / "results").glob("*.json")
                              if not p.name.endswith(".local.json")}
    # ... and git ignores it, so a quick run leaves the checkout clean.
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "benchmarks/results/*.local.json" in ignored and quick.name.endswith(".local.json")
    assert default_json(quick=False).name == "latest.json"
