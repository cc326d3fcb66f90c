"""The command line's standard streams: read and write them as a well-behaved Unix tool does.

Input: the process's standard streams, whatever state they are in (closed, full, a pipe that
closes, an ASCII locale).  Output: text in, text out, and one line on standard error with exit
status 2 when a stream fails, never a traceback:

- a program on standard input is read as UTF-8 (the language's encoding, as for Python
  source), undecodable bytes kept as lone surrogates ("surrogateescape") so that the parser
  points at them, and no more of it than `limits.MAX_SOURCE_CHARS` allows;
- text (reports, messages, JSON) is written in the stream's encoding; what that encoding
  cannot hold is written as backslash escapes (inside JSON strings these are JSON escapes, so
  the output stays valid JSON);
- generated code is written as UTF-8 bytes, as ``-o FILE`` writes it, whatever the locale;
- JSON never holds NaN or Infinity (not JSON): non-finite numbers are the strings ``"NaN"``,
  ``"Infinity"`` and ``"-Infinity"``, which Python's ``float()`` and JavaScript's
  ``Number()`` read back.
"""
from __future__ import annotations

import errno
import io
import json
import math
import os
import sys

from . import limits
from .errors import ExprError, LimitError, printable

EXIT_FAILED_WRITE = 2


class _Closed(io.TextIOBase):
    """Stands for a standard stream that was closed when the process started (``>&-``): any
    write fails as writing to a closed descriptor does."""

    def write(self, text):
        raise OSError(errno.EBADF, "standard output is closed")

    def writable(self):
        return True


def prepare() -> None:
    """Make the standard streams safe to use for the rest of the process (the CLI's first
    step): text output escapes what its encoding cannot hold, and closed streams are
    replaced (writes to a closed standard output fail; messages to a closed standard error
    are dropped, there being nowhere to say them)."""
    if sys.stdout is None:
        sys.stdout = _Closed()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def read_stdin() -> str:
    """The program on standard input (see the module's notes)."""
    if sys.stdin is None:
        raise ExprError("cannot read the program: standard input is closed")
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:                      # a text stream put in place by a caller
        text = sys.stdin.read(limits.MAX_SOURCE_CHARS + 1)
        _check_length(text, "standard input")
        return text
    try:
        return read_source(buffer, "standard input")
    except OSError as err:
        raise ExprError(f"cannot read standard input: {err.strerror or err}") from None


def read_source(binary, what: str) -> str:
    """A program from a binary stream (a file, standard input) as UTF-8, undecodable bytes kept
    as lone surrogates, a byte-order mark dropped; no more is read than the size limit lets
    through, so 10 GB are refused without reading them all."""
    cap = limits.MAX_SOURCE_CHARS
    data = binary.read(4 * cap + 1)         # a character is at most 4 bytes of UTF-8
    text = "x" * (cap + 1) if len(data) > 4 * cap else \
        data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    _check_length(text, what)
    return text


def _check_length(text: str, what: str) -> None:
    if len(text) > limits.MAX_SOURCE_CHARS:
        raise LimitError(f"the program in {what} is longer than {limits.MAX_SOURCE_CHARS:,} "
                         "characters (exprgrad.limits.MAX_SOURCE_CHARS)",
                         limit="MAX_SOURCE_CHARS")


def write_code(text: str) -> None:
    """Generated code on standard output, as UTF-8 bytes."""
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None or (out.encoding or "").lower().replace("-", "") == "utf8":
        out.write(text)
    else:
        out.flush()
        buffer.write(text.encode("utf-8", "backslashreplace"))


def json_text(data) -> str:
    """`data` as JSON text, non-finite floats as strings (see the module's notes)."""
    return json.dumps(_finite(data), ensure_ascii=False, allow_nan=False)


def _finite(data):
    # JSON output is a few levels deep (never user-sized): plain recursion is fine here.
    if isinstance(data, float) and not math.isfinite(data):
        return "NaN" if math.isnan(data) else "Infinity" if data > 0 else "-Infinity"
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def finish(status: int) -> int:
    """Flush standard output at the end; a failed write becomes exit status 2 and a line on
    standard error (a closed pipe: the reader has what it wanted, status as it was)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as err:
        return write_failed(err)
    return status


def write_failed(err: OSError) -> int:
    """One line on standard error for a write that failed (disk full, closed stream)."""
    _silence_stdout()
    if isinstance(err, BrokenPipeError):
        return 0
    reason = err.strerror or str(err)
    try:
        print(f"exprgrad: error: cannot write the output: {printable(reason)}",
              file=sys.stderr, flush=True)
    except OSError:
        pass
    return EXIT_FAILED_WRITE


def _silence_stdout() -> None:
    # What is still buffered would fail again when Python flushes at exit ("Exception
    # ignored ... BrokenPipeError"): point the descriptor at /dev/null first.
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        sys.stdout = _Closed()
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
