"""The benchmark runner: tables with ratios, numbers checked against the reference before timing.

Runs `benchmarks/run.py --quick --only W1` and `--only W7` as a user does (peers that are not
installed are reported as missing), checks W7's hand-written references against finite
differences, and runs the harness on a deliberately wrong candidate.  Timings are never
asserted: only that they are reported, as ratios to a reference measured in the same run.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def quick_run(tmp_path, workload: str) -> tuple[str, dict]:
    """`run.py --quick --only <workload> --no-peers` as a user runs it: (stdout, its JSON).
    --no-peers keeps it fast where peers are installed; in CI they are missing anyway."""
    out_json = tmp_path / f"{workload}.json"
    run = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--only", workload,
                          "--no-peers", "--json", str(out_json)], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr + run.stdout
    return run.stdout, json.loads(out_json.read_text())


def test_quick_w1_prints_a_table_with_ratios_and_verified_rows(tmp_path):
    text, data = quick_run(tmp_path, "W1")
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


def test_a_ratio_pairs_each_round_with_the_reference_sample_of_that_round():
    # The machine's speed drifts: a row's samples are set against the reference's samples of
    # the same rounds, not median against median (which can land in different stretches).
    sys.path.insert(0, str(BENCH))
    try:
        from harness import Row
    finally:
        sys.path.remove(str(BENCH))
    rounds = object()                         # one `time_rows` call
    ref = Row("ref", median=2.0, samples=[1.0, 1.0, 2.0, 2.0, 2.0],
              cpu_samples=[1.0, 1.0, 1.0, 1.0, 1.0], rounds=rounds)
    same = Row("same code", median=1.0, samples=[1.0, 1.0, 1.0, 2.0, 2.0],
               cpu_samples=[1.0, 1.0, 1.0, 1.0, 3.0], rounds=rounds)
    assert same.ratio_to(ref) == 1.0          # median ÷ median would say 0.5
    assert same.ratio_to(ref, cpu=True) == 1.0
    timed_apart = Row("one-off", median=3.0)
    assert timed_apart.ratio_to(ref) == 1.5   # no rounds to pair: median ÷ median
    other_call = Row("another run", median=1.0, samples=[1.0, 1.0, 1.0, 2.0, 2.0],
                     rounds=object())
    assert other_call.ratio_to(ref) == 0.5    # as many samples, but not the same rounds


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


def test_quick_w7_second_order_tables_are_verified_and_report_the_targets(tmp_path):
    text, data = quick_run(tmp_path, "W7")
    for heading in ("### W7a — seed neuron", "### W7b — Rosenbrock: text → callable Hessian",
                    "### W7b (n = 10)", "### W7b (n = 100)", "### W7c — MLP"):
        assert heading in text, heading
    assert "| implementation | median | min | max | × reference | CPU × reference | checked |" \
        in text
    tables = {t["key"]: t for t in data["workloads"]["W7"]["tables"]}
    assert set(tables) == {"W7a", "W7b", "W7b (n = 10)", "W7b (n = 100)", "W7c"}
    for key, table in tables.items():
        if key == "W7b":                      # the build table: one-off steps, no reference
            continue
        timed = [r for r in table["rows"] if r["status"] == "ok"]
        assert len(timed) >= 3, key
        for row in timed:                     # checked against the reference, then timed
            assert row["verified"] is True and row["median_s"] > 0 and row["cpu_median_s"] > 0
        assert {r["status"] for r in table["rows"]} <= {"ok", "missing", "skipped"}, key
    names = {r["name"] for r in tables["W7b (n = 100)"]["rows"] if r["status"] == "ok"}
    assert {"emitted python hess_f(*args)", "f.hessian(**pt)"} <= names
    hvp = next(r for r in tables["W7c"]["rows"] if r["name"].startswith("emitted python hvp_f"))
    assert "× CPU" in hvp["÷ own gradient"]
    build = {r["name"]: r for r in tables["W7b"]["rows"]}
    assert "CPU" in build["exprgrad: text → callable hess_f"]["n = 100"]
    targets = {t["what"]: t for tab in tables.values() for t in tab["targets"]}
    for what in ("emitted hess_f / hand-written Hessian, CPU time",
                 "Rosenbrock-100 text → callable Hessian, CPU time",
                 "emitted hvp_f / emitted grad_f, CPU time"):
        assert targets[what]["measured"] > 0 and targets[what]["met"] in (True, False), what
    assert "### Targets" in text and "≤ 5×" in text


def test_w7_hand_written_references_agree_with_finite_differences():
    """The references W7 checks everything against, checked independently: the hand-written
    Hessians against central differences of their own gradients, the complex-step HVP against
    central differences of W2's hand-written gradient along v."""
    sys.path.insert(0, str(BENCH))
    try:
        import w1_neuron
        import w7_second_order as w7
    finally:
        sys.path.remove(str(BENCH))

    def check_hessian(fn, x, h=1e-6):
        _, _, hess = fn(*x)
        for j in range(len(x)):
            up, down = list(x), list(x)
            up[j] += h
            down[j] -= h
            column = [(a - b) / (2 * h) for a, b in zip(fn(*up)[1], fn(*down)[1])]
            for i, c in enumerate(column):
                assert abs(hess[i][j] - c) <= 1e-5 * max(1.0, abs(c)), (i, j, hess[i][j], c)
            assert all(hess[i][j] == hess[j][i] for i in range(len(x)))

    check_hessian(w7.ref_neuron, [0.3, -0.7, 1.1, 0.4, -0.9])
    check_hessian(w7.ref_neuron, list(w1_neuron.ARGS))
    check_hessian(w7.ref_rosenbrock, w7.rosenbrock_point(10))
    x = w7.rosenbrock_point(5)
    value = sum(100 * (b - a * a) ** 2 + (1 - a) ** 2 for a, b in zip(x, x[1:]))
    assert abs(w7.ref_rosenbrock(*x)[0] - value) <= 1e-12 * value

    args, v, h = list(w7.MLP_ARGS), w7.direction(), 1e-6
    grad = w7.w2_mlp.load_reference()
    up = grad(*[a + h * d for a, d in zip(args, v)])[1]
    down = grad(*[a - h * d for a, d in zip(args, v)])[1]
    hv = w7.complex_step_hvp(args, v)
    assert any(abs(e) > 1e-3 for e in hv)
    for e, a, b in zip(hv, up, down):
        assert abs(e - (a - b) / (2 * h)) <= 1e-5 * max(1.0, abs(e))
