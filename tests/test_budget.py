"""The sympy budget (exprgrad/budget.py): every sympy call of a job ends within one time limit,
on the main thread, off it, and beside a host program that owns SIGALRM.

The bounds asserted here are guards with generous slack (the budget plus 20 s), not speed
assertions: without the budget these inputs ran for minutes.
"""
from __future__ import annotations

import gc
import math
import signal
import sys
import threading
import time

import pytest
import sympy

import exprgrad as eg
from exprgrad import budget
from exprgrad.budget import Budget, shared
from exprgrad.check import check

from helpers import run_cli, run_python

SLACK = 20.0
PRODUCT = " * ".join(f"tanh(x{i} + {i})" for i in range(300))      # 300 factors, 5 KB


def slow_sympy(seconds: float = SLACK):
    """sympy work for `seconds` however fast the machine (a guard that fails to interrupt it
    lets it return, and the test fails instead of hanging)."""
    x, y = sympy.symbols("x y")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sympy.expand((x + y + 1) ** 60)
        sympy.core.cache.clear_cache()


def symbolic_emit(status: dict) -> None:
    t0 = time.monotonic()
    result = run_cli("--emit", "python", "--strategy", "symbolic", "--", PRODUCT)
    status.update(result=result, seconds=time.monotonic() - t0)


@pytest.fixture
def short_budget(monkeypatch):
    monkeypatch.setattr(budget, "TIME_BUDGET", 1.0)
    return 1.0


def assert_stopped_by_the_budget(status: dict, seconds: float) -> None:
    res = status["result"]
    assert res.returncode == 2 and res.stdout == "", res
    assert "exceeded the time budget" in res.stderr or "ran out before" in res.stderr, res
    assert "use the reverse strategy" in res.stderr and "Traceback" not in res.stderr
    assert status["seconds"] < seconds + SLACK, status["seconds"]


def test_a_300_factor_product_with_the_symbolic_strategy_ends_within_the_budget(short_budget):
    status: dict = {}
    symbolic_emit(status)
    assert_stopped_by_the_budget(status, short_budget)


def test_the_budget_holds_off_the_main_thread(short_budget):
    status: dict = {}
    thread = threading.Thread(target=symbolic_emit, args=(status,), daemon=True)
    thread.start()
    thread.join(short_budget + 2 * SLACK)
    assert not thread.is_alive()
    assert_stopped_by_the_budget(status, short_budget)


def test_the_budget_holds_beside_a_host_that_owns_sigalrm(short_budget):
    fired = []
    old = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 600.0)          # the host's own, far-off alarm
    try:
        status: dict = {}
        symbolic_emit(status)
        assert_stopped_by_the_budget(status, short_budget)
        # the host's handler and timer are untouched
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 500 and not fired
        assert signal.getsignal(signal.SIGALRM) is not old
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("where", ["main thread", "another thread", "host SIGALRM"])
def test_a_guard_interrupts_sympy_anywhere_and_leaves_nothing_pending(where):
    outcome: dict = {}

    def job():
        t0 = time.monotonic()
        try:
            with Budget(seconds=0.3).guard("expanding a big power"):
                slow_sympy()
        except eg.SymbolicError as err:
            outcome.update(error=str(err), seconds=time.monotonic() - t0)
        # nothing left armed: plain Python runs on, uninterrupted, after the guard
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            sum(range(1000))
        outcome["after"] = True

    old = signal.getsignal(signal.SIGALRM)
    if where == "host SIGALRM":
        signal.signal(signal.SIGALRM, lambda signum, frame: None)
    try:
        if where == "another thread":
            thread = threading.Thread(target=job, daemon=True)
            thread.start()
            thread.join(2 * SLACK)
        else:
            job()
    finally:
        signal.signal(signal.SIGALRM, old)
    assert "exceeded the time budget" in outcome.get("error", ""), outcome
    assert outcome["seconds"] < 0.3 + SLACK / 2 and outcome["after"]


def test_one_budget_is_shared_by_a_whole_job():
    f = eg.compile("tanh(x*y) + x")
    with shared(Budget(seconds=0.0)):
        # any sympy call inside, not given a budget, uses the shared (exhausted) one
        with pytest.raises(eg.SymbolicError, match="ran out before"):
            f.sympy
        report = f.check(x=0.5, y=2.0)
    assert "time budget" in report.skipped["sympy"] and report.ok
    assert f.sympy is not None                         # outside: a fresh budget again


def test_a_check_off_the_main_thread_skips_sympy_at_its_budget():
    f = eg.compile("n = x*y + 1; " + " + ".join(f"tanh(n*{i})^{i % 7 + 1}" for i in range(60)))
    point = {"x": 0.3, "y": 0.7}
    result: dict = {}

    def job():
        t0 = time.monotonic()
        result.update(report=check(f, point, budget=Budget(seconds=0.2)),
                      seconds=time.monotonic() - t0)
    thread = threading.Thread(target=job, daemon=True)
    thread.start()
    thread.join(60)
    report = result["report"]
    assert report.ok and result["seconds"] < 0.2 + SLACK
    if report.skipped:                  # a fast machine may finish within 0.2 s
        assert all("time budget" in why for why in report.skipped.values())


def test_a_timeout_landing_as_the_guard_arms_is_the_guards(monkeypatch):
    """The watchdog may fire the moment a guard arms it (a budget with microseconds left):
    the timeout must end that guard as a SymbolicError, and leave nothing armed that could
    land later in code outside any guard (a test runner's gc callback)."""
    arm = budget._Watchdog.arm

    def arm_then_fire(self, alarm):
        arm(self, alarm)
        with self.cond:                 # the watchdog fires: delivered at the next bytecode
            self._fire(alarm, time.monotonic())
        for _ in range(3):
            pass
    monkeypatch.setattr(budget._Watchdog, "arm", arm_then_fire)
    with pytest.raises(eg.SymbolicError, match="exceeded the time budget"):
        with Budget(seconds=0.05).guard("converting"):
            pass
    monkeypatch.undo()
    assert not budget._WATCHDOG.armed
    end = time.monotonic() + 0.3            # past the deadline and a few repeats
    while time.monotonic() < end:
        sum(range(1000))


def test_a_guard_abandoned_in_its_enter_never_fires_outside_it():
    """An exception landing in contextlib's __enter__ after the guard armed (a host's SIGALRM
    handler raising, Ctrl-C) leaves the guard's generator suspended with no __exit__ to come,
    kept alive by the traceback.  Its alarm must not fire into the code that runs next: it
    did, every 50 ms, and crashed a fuzzer soak inside pytest's own reporting."""
    def enter_and_abandon():
        held = Budget(seconds=0.05).guard("converting")
        held.__enter__()                # armed; the `with` never ran, no __exit__ will
        return held
    held = enter_and_abandon()
    end = time.monotonic() + 0.4        # past the deadline and several repeats
    while time.monotonic() < end:
        sum(range(1000))
    assert not budget._WATCHDOG.armed   # the watchdog dropped it: its frame had returned
    del held


def test_a_timeout_in_the_with_statements_own_bytecodes_is_a_symbolic_error():
    """The timeout can land in contextlib's __enter__ or __exit__, outside the guard's try
    (the soak saw a raw _Timeout escape from __exit__): the library's functions that run
    guards (`budget.bounded`) turn it into the SymbolicError of any timeout, and the alarm
    that guard left armed is dropped once the function has returned."""
    @budget.bounded
    def job():
        held = Budget(seconds=0.05).guard("converting")
        held.__enter__()                # armed, and the with statement interrupted here
        raise budget._Timeout
    with pytest.raises(eg.SymbolicError, match="exceeded the time budget"):
        job()
    end = time.monotonic() + 0.4
    while time.monotonic() < end:
        sum(range(1000))
    assert not budget._WATCHDOG.armed


def test_a_timeout_landing_in_a_gc_callback_is_not_reported_and_still_ends_the_guard(
        monkeypatch):
    """A timeout can land where Python cannot raise it, in a gc callback (a test runner's,
    hypothesis's) or a finaliser, which reports it as "Exception ignored" (pytest: a
    PytestUnraisableExceptionWarning).  It is dropped there, and the watchdog's next firing
    ends the guard as usual."""
    reported: list = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    landed: list = []

    def callback(phase, info):
        if phase == "start" and not landed:
            landed.append(phase)
            # what the watchdog does, at the moment a collection runs the callbacks
            budget._RAISE_IN(threading.get_ident(), budget._Timeout)
            for _ in range(3):
                pass
    gc.callbacks.append(callback)
    t0 = time.monotonic()
    try:
        with pytest.raises(eg.SymbolicError, match="exceeded the time budget"):
            with Budget(seconds=0.3).guard("expanding a big power"):
                gc.collect()
                slow_sympy()
    finally:
        gc.callbacks.remove(callback)
    assert landed and time.monotonic() - t0 < 0.3 + SLACK / 2
    assert not [u for u in reported if issubclass(u.exc_type, budget._Timeout)], reported


def test_an_outer_guards_timeout_passes_through_an_inner_guard():
    """Guards nest (a job's time limit around a library call's own): the outer guard's
    timeout, landing inside the inner one, ends the outer guard, not the inner one with a
    message about a budget that has not run out."""
    t0 = time.monotonic()
    with pytest.raises(eg.SymbolicError, match="the outer job exceeded"):
        with Budget(seconds=0.3).guard("the outer job"):
            try:
                with Budget(seconds=SLACK * 2).guard("the inner job"):
                    slow_sympy()
            except eg.SymbolicError as err:
                pytest.fail(f"the inner guard took the outer one's timeout: {err}")
    assert time.monotonic() - t0 < 0.3 + SLACK / 2
    assert not budget._WATCHDOG.armed


def test_ctrl_c_while_a_guard_disarms_still_disarms(monkeypatch):
    """A KeyboardInterrupt (or a signal handler's exception) that lands in the middle of
    disarming is raised after the alarm is gone, so no timeout follows it later."""
    class Interrupted(set):
        def discard(self, alarm):
            if not getattr(self, "once", False):
                self.once = True
                raise KeyboardInterrupt
            super().discard(alarm)
    armed = Interrupted()
    monkeypatch.setattr(budget._WATCHDOG, "armed", armed)
    with pytest.raises(KeyboardInterrupt):
        with Budget(seconds=0.1).guard("converting"):
            pass
    assert armed.once and not armed
    end = time.monotonic() + 0.4            # past the deadline and a few repeats
    while time.monotonic() < end:
        sum(range(1000))


def test_a_guard_returns_under_a_profiler():
    # Withdrawing an interruption that was never raised left a thread run under a profiler
    # (cProfile, sys.setprofile) spinning for ever in the watchdog's lock: profiling the
    # command line's check hung.  In a child process, so that a hang fails the test.
    code = ("import sys\nfrom exprgrad.budget import Budget\n"
            "sys.setprofile(lambda *args: None)\n"
            "with Budget().guard('nothing'):\n    pass\n"
            "sys.setprofile(None)\nprint('returned')")
    done = run_python(code, timeout=SLACK)
    assert done.stdout.strip() == "returned", done.stderr


@pytest.mark.parametrize("dps", [15, 30])
def test_a_guard_puts_mpmath_s_precision_back_after_sympy_leaves_it_changed(dps):
    """mpmath 1.3's workprec sets a precision past the float range before it fails (its
    __exit__ never runs), as sympy's evalf of cosh(1)^(710^1.8e308) does: the guard around
    sympy's work restores the precision it found, the user's own included."""
    import mpmath
    mpmath.mp.dps = dps
    bits = mpmath.mp.prec
    try:
        with pytest.raises(OverflowError):
            with Budget(seconds=30).guard("the closed form"):
                with mpmath.workprec(10 ** 400):
                    pass
        assert mpmath.mp.prec == bits and mpmath.mp.dps == dps
        x = sympy.Symbol("x")
        assert float(sympy.N((sympy.cosh(1) ** x).subs(x, 2), 30)) == \
            pytest.approx(math.cosh(1) ** 2, rel=1e-15)
    finally:
        mpmath.mp.dps = 15


def test_a_guard_leaves_a_precision_mpmath_can_work_at_alone():
    """Only a precision mpmath cannot work at is put back: another thread's ``workprec``
    (sympy's work is not confined to one thread) may still be running at its own."""
    import mpmath
    try:
        with Budget(seconds=30).guard("the closed form"):
            mpmath.mp.prec = 200            # as another thread's workprec(200) would
        assert mpmath.mp.prec == 200
    finally:
        mpmath.mp.prec = 53


def test_a_guard_heals_a_precision_left_broken_before_it():
    """sympy's work outside any guard (a user's own) can leave mpmath's precision where it
    cannot work: the next guard starts from mpmath's default and its sympy work succeeds."""
    import mpmath
    try:
        with pytest.raises(OverflowError):
            with mpmath.workprec(10 ** 400):
                pass
        # (mpmath 1.3 leaves it past 10**300 bits here)
        x = sympy.Symbol("x")
        with Budget(seconds=30).guard("the closed form"):
            value = float(sympy.N((sympy.cosh(1) ** x).subs(x, 2), 30))
        assert value == pytest.approx(math.cosh(1) ** 2, rel=1e-15)
        assert mpmath.mp.prec == 53
    finally:
        mpmath.mp.prec = 53
