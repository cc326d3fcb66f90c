"""Writing output files atomically: bytes in, the file replaced whole or not at all.

Generated code (``-o FILE``) and pictures (``--dot``) are written to a temporary file in the
target's directory, flushed to disk, then renamed over the target (`os.replace`, atomic on
POSIX and Windows).  A failed write (disk full, ``ulimit -f``, a signal) leaves an existing
file as it was, never truncated to half a program.  The new file gets the old one's permission
bits (or the usual ones under the umask); a symbolic link is written through, and a target that
is not a regular file (``/dev/stdout``, a FIFO) is written in place, as it cannot be replaced.
"""
from __future__ import annotations

import os
import stat
import tempfile


def write_atomic(path, data: bytes) -> None:
    """Replace the file at `path` by `data` in one step; OSError when it cannot."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as fh:            # a device or a pipe: nothing to replace
            fh.write(data)
        return
    folder, name = os.path.split(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, os.path.join(folder, name))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    # The only portable way to read the umask is to set it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def same_file(a, b) -> bool:
    """Whether two output paths name one file (through links, `..` and case-folding file
    systems when the file exists)."""
    a, b = os.fspath(a), os.fspath(b)
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
