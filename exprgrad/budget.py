"""The sympy budget: limits (size, depth, time) for one job → sympy work that ends in time.

Input: a `Budget` (made by the caller, or the one `shared` by the job around it, e.g. one run of
the command line) and a block of sympy code run under ``budget.guard(what)``.  Output: the
block's result, or `SymbolicError("symbolic side skipped: <what> exceeded the time budget")`
when its time is up; a RecursionError inside sympy becomes one too.  Nothing here imports sympy.

How the time limit is enforced — measured (README, "Guarantees and limits"): a watchdog thread
raises the timeout *in the thread that runs sympy* through CPython's
``PyThreadState_SetAsyncExc``, the mechanism `threading` itself is built on.  Unlike a SIGALRM
timer it works off the main thread and beside a host program that owns SIGALRM (a web server,
a test runner's timeout), and it never touches the host's signal handlers or timers.  Like a
signal, it is delivered between bytecodes: a single long C call (one huge integer
multiplication) finishes first, which the size limits (`MAX_TREE`, `MAX_DEPTH`,
`exprgrad.limits.MAX_CONSTANT_BITS`) keep short.  A worker process would also stop C code, but
each job would pay a process start and the pickling of every expression both ways (see the
README's figures), and sympy's expressions do not pickle past Python's recursion limit.
Where ``ctypes.pythonapi`` does not exist (not CPython) the limit is checked between steps.
An interruption can also land while sympy updates an object's assumptions: sympy's caches are
cleared after one, but an expression kept by the caller may keep a half-made fact (a stray
``KeyError`` from sympy later); only a worker process would rule that out.
"""
from __future__ import annotations

import contextvars
import ctypes
import functools
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import SymbolicError

#: nodes of the output's expression tree once named intermediates are substituted
MAX_TREE = 4_000
#: nesting depth as sympy builds it (a flat sum or product is one level)
MAX_DEPTH = 60
#: seconds for one job: one library call, or one run of the command line (every sympy call
#: of it: the check's columns, closed forms, --json, --strategy symbolic)
TIME_BUDGET = 3.0
#: seconds between two interruptions when code between sympy and the guard swallows one
_REPEAT = 0.05


def skipped(reason: str, transient: bool = False) -> SymbolicError:
    """The error for a skipped symbolic side; ``transient`` (out of time) is not cached."""
    err = SymbolicError(f"symbolic side skipped: {reason}")
    err.transient = transient
    return err


class _Timeout(BaseException):
    """Raised inside sympy when time is up; a BaseException so no `except Exception` in
    sympy eats it."""


_shared: contextvars.ContextVar = contextvars.ContextVar("exprgrad_budget", default=None)


@dataclass
class Budget:
    """Limits for one job.  ``seconds`` is wall time from the budget's first use (so
    importing sympy, parsing and the float work before it do not count).  Each limit left
    out is the module's number when the budget is made, so a program that needs more sets it
    first (``exprgrad.budget.TIME_BUDGET = 30``)."""
    max_tree: int | None = None
    max_depth: int | None = None
    seconds: float | None = None

    def __post_init__(self):
        self.max_tree = MAX_TREE if self.max_tree is None else self.max_tree
        self.max_depth = MAX_DEPTH if self.max_depth is None else self.max_depth
        self.seconds = TIME_BUDGET if self.seconds is None else self.seconds
        self.deadline: float | None = None

    @classmethod
    def current(cls) -> "Budget":
        """The budget `shared` by the job around the caller, else a fresh one."""
        return _shared.get() or cls()

    def remaining(self) -> float:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
        return self.deadline - time.monotonic()

    @contextmanager
    def guard(self, what: str):
        """Run sympy code: out of time, too deep → `SymbolicError` naming `what`."""
        left = self.remaining()
        if left <= 0:
            raise skipped(f"the time budget ({self.seconds:g} s) ran out before {what}", True)
        # Armed inside the try, so a timeout landing while arming is this guard's and the
        # finally disarms it.  The alarm keeps the frame running the `with` statement (below
        # contextlib's __enter__), and the watchdog fires only while that frame is on the
        # thread's stack: an exception landing in __enter__ after the yield (Ctrl-C, a host's
        # SIGALRM) leaves this generator suspended, armed, with no __exit__ to come, and its
        # alarm would otherwise fire every `_REPEAT` seconds into code outside any guard.
        alarm = _Alarm(left, sys._getframe(2))
        precision = _precision()
        _restore_precision(precision)   # one left broken by sympy's work outside a guard
        try:
            try:
                try:
                    _WATCHDOG.arm(alarm)
                    yield
                finally:
                    _WATCHDOG.disarm(alarm)     # may re-raise a Ctrl-C that came meanwhile
            finally:
                _restore_precision(precision)
        except _Timeout:
            _WATCHDOG.disarm(alarm)     # it may have arrived before the first disarm ran
            _restore_precision(precision)
            if not alarm.fired:
                raise                   # an outer guard's, in this thread: it ends that one
            _forget_interrupted_work()
            raise skipped(f"{what} exceeded the time budget ({self.seconds:g} s)", True) from None
        except RecursionError:
            raise skipped(f"{what} is nested too deeply for sympy") from None


def bounded(fn):
    """For a function that runs `Budget.guard` blocks: a timeout that lands in contextlib's
    ``__enter__`` or ``__exit__`` around a guard (between the with statement's bytecodes,
    outside the guard's own try; the soak saw one in ~10,000 programs) reaches the caller as
    the `SymbolicError` of any other timeout, not as the budget's internal exception.  The
    alarm such a guard leaves armed is dropped by the watchdog once this frame has returned."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        precision = _precision()
        try:
            return fn(*args, **kwargs)
        except _Timeout:
            _forget_interrupted_work()
            raise skipped("sympy's work exceeded the time budget", True) from None
        finally:
            _restore_precision(precision)     # also after a guard's with statement failed
    return wrapper


def _precision() -> int:
    """mpmath's working precision (bits) now, or 53 (its default) where it is not imported
    or has been left where it cannot work (`_restore_precision`)."""
    mpmath = sys.modules.get("mpmath")
    if mpmath is None or not _workable(mpmath.mp.prec):
        return 53
    return mpmath.mp.prec


def _workable(bits: int) -> bool:
    try:
        float(bits)
    except OverflowError:
        return False
    return True


def _restore_precision(bits: int) -> None:
    """Put mpmath's process-wide precision back to `bits` if it has been left where mpmath
    cannot work.  sympy evaluates with ``mpmath.workprec(p)``, and mpmath (1.3) sets the
    precision before it can fail: a `p` past the float range (``cosh(1)**(710**1.8e308)``
    asks for a 310-digit number of bits) raises OverflowError in ``prec_to_dps`` after
    ``_prec`` is set, so ``__exit__`` never runs and every later evaluation in the process
    fails ("too many digits in integer").  A precision mpmath can work at is left alone: it
    may be another thread's ``workprec``, still running (sympy's evaluations in two threads
    share mpmath's precision anyway: each ``workprec`` sets it for the whole process)."""
    mpmath = sys.modules.get("mpmath")
    if mpmath is not None and not _workable(mpmath.mp.prec):
        mpmath.mp.prec = bits


def _forget_interrupted_work() -> None:
    """An interruption can land in the middle of sympy updating an object's assumptions or a
    cache entry; drop sympy's caches so a half-made entry is not served to the next job."""
    import sys
    cache = sys.modules.get("sympy.core.cache")
    if cache is not None:
        cache.clear_cache()


@contextmanager
def shared(budget: Budget):
    """Every sympy call inside the block (in this thread or context) that is not given a
    budget uses `budget`: one limit for a whole job, such as one run of the command line."""
    token = _shared.set(budget)
    try:
        yield budget
    finally:
        _shared.reset(token)


def _async_raiser():
    """``raise_in(thread id, exception class or None)``: CPython's
    ``PyThreadState_SetAsyncExc`` (None withdraws a pending one), or None where there is none.
    Arguments are converted here, not through ``argtypes``, so None is passed as NULL."""
    try:
        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except AttributeError:
        return None

    def raise_in(thread: int, exc) -> None:
        set_async_exc(ctypes.c_ulong(thread), None if exc is None else ctypes.py_object(exc))
    return raise_in


_RAISE_IN = _async_raiser()


class _Watchdog:
    """One daemon thread for the process: each guard arms it with its deadline and thread;
    past a deadline it raises `_Timeout` in that thread, and again every `_REPEAT` seconds
    until the guard disarms it (if code between sympy and the guard — a gc callback, a bare
    except — swallowed it).  One thread, not one per guard: a guard then costs microseconds."""

    def __init__(self):
        self.cond = threading.Condition()
        self.armed: set[_Alarm] = set()
        self.thread: threading.Thread | None = None

    def arm(self, alarm: "_Alarm") -> None:
        """Interrupt the calling thread when `alarm` is due, unless it is disarmed first."""
        if _RAISE_IN is None:
            return
        with self.cond:
            if not isinstance(sys.unraisablehook, _QuietTimeouts):
                sys.unraisablehook = _QuietTimeouts(sys.unraisablehook)
            alarm.due = time.monotonic() + alarm.seconds
            alarm.thread = threading.get_ident()
            self.armed.add(alarm)
            if self.thread is None or not self.thread.is_alive():   # first use, or a fork
                self.thread = threading.Thread(target=self._watch, daemon=True,
                                               name="exprgrad sympy budget")
                self.thread.start()
            self.cond.notify()

    def disarm(self, alarm: "_Alarm") -> None:
        """Called by the thread that armed `alarm` (or was about to); idempotent, and it
        completes even if an interruption arrives while it runs (it then runs again).  The
        watchdog raises only while it holds `cond`, so once this holds it, no interruption
        for `alarm` is being raised: the alarm is dropped and one raised but not yet
        delivered is withdrawn, and none reaches the code after the guard."""
        if _RAISE_IN is None:
            return
        interrupted = None
        while True:
            try:
                with self.cond:
                    self.armed.discard(alarm)
                    alarm.frame = None          # a frame kept alive by nothing else
                    # Only if the watchdog raised one for this thread: withdrawing none
                    # still sets CPython's (3.11) eval breaker, and a thread run under a
                    # profiler (cProfile, sys.setprofile) then spun for ever in this lock's
                    # release.
                    me = threading.get_ident()
                    if alarm.fired or any(a.fired and a.thread == me for a in self.armed):
                        _RAISE_IN(me, None)
                break
            except _Timeout:
                continue
            except BaseException as exc:    # Ctrl-C, a signal handler's: disarm, then raise
                interrupted = exc
        if interrupted is not None:
            raise interrupted

    def _fire(self, alarm: "_Alarm", now: float) -> None:
        """Interrupt `alarm`'s thread (called with `cond` held), and again after `_REPEAT`;
        drop the alarm instead if its `with` statement is no longer running (abandoned)."""
        if not _on_stack(alarm.thread, alarm.frame):
            self.armed.discard(alarm)
            alarm.frame = None
            return
        alarm.due, alarm.fired = now + _REPEAT, True
        _RAISE_IN(alarm.thread, _Timeout)

    def _watch(self) -> None:
        with self.cond:
            while True:
                now = time.monotonic()
                for alarm in list(self.armed):
                    if alarm.due <= now:
                        self._fire(alarm, now)
                soonest = min((a.due for a in self.armed), default=None)
                self.cond.wait(None if soonest is None else max(0.0, soonest - now))


class _Alarm:
    """One guard's time limit: `seconds` from when it is armed, the thread to interrupt, the
    frame whose `with` statement the guard serves, and whether the watchdog fired (set under
    its lock, so the guard can tell its own timeout from an outer guard's)."""
    __slots__ = ("seconds", "due", "thread", "fired", "frame")

    def __init__(self, seconds: float, frame=None):
        self.seconds, self.due, self.thread, self.fired = seconds, 0.0, 0, False
        self.frame = frame


def _on_stack(thread: int, frame) -> bool:
    """`frame` is running in `thread` (it or a frame it called is executing)."""
    if frame is None:
        return True
    top = sys._current_frames().get(thread)
    while top is not None:
        if top is frame:
            return True
        top = top.f_back
    return False


class _QuietTimeouts:
    """``sys.unraisablehook`` that drops a `_Timeout` Python could not raise where it landed
    (a gc callback, a finaliser, a weakref callback: "Exception ignored in ...", a test
    runner's PytestUnraisableExceptionWarning) and passes anything else to the hook it wraps.
    Nothing is lost: the watchdog raises it again `_REPEAT` seconds later, in the guarded
    code.  Installed by the first guard, and again if the host replaces the hook."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, unraisable) -> None:
        if isinstance(unraisable.exc_type, type) and issubclass(unraisable.exc_type, _Timeout):
            return
        self.inner(unraisable)


_WATCHDOG = _Watchdog()
