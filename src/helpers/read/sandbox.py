"""Run a function in a forked child with a memory allowance and a time limit.

Used for pdfium, whose C code has no limits of its own: a 70 KB PDF whose page
draws a few million characters makes it allocate gigabytes, and a content
stream that inflates to 800 MB is decoded in full when its page is loaded.
Neither can be interrupted from Python.  In a child process both are bounded
for certain: ``RLIMIT_AS`` caps the memory (pdfium aborts, Python raises
``MemoryError``) and the parent kills the child when the time is up.

A fork costs a few milliseconds; the child starts with everything the parent
has imported (pdfium initialised), and sends back its result pickled through
a pipe.  Where ``fork`` is not available the function runs in process,
unbounded.
"""

from __future__ import annotations

import math
import os
import pickle
import select
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Outcome", "run_bounded", "can_fork"]


@dataclass(slots=True)
class Outcome:
    """What became of the call.

    ``kind`` is ``ok`` (``value`` holds the return value), ``error`` (the
    function raised; ``detail`` says what), ``memory`` (the memory allowance
    was exceeded: ``MemoryError`` or the child died of an allocation failure),
    ``timeout`` (killed when the time was up) or ``crashed`` (died by a signal,
    ``detail`` names it).
    """

    kind: str
    value: Any = None
    detail: str = ""
    seconds: float = 0.0


def can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(os, "waitpid")


def _vm_size() -> int:
    """Current virtual memory size of this process in bytes (Linux), or 0."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _die_with_parent() -> None:
    """Linux: the child is killed when the parent dies (a killed build or
    extract must not leave pdfium running)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover
            pass


def _child(fn: Callable, args: tuple, memory_bytes: int, seconds: float, parent: int, w: int) -> None:
    """Runs in the child: never returns."""
    code = 0
    try:
        _die_with_parent()
        if os.getppid() != parent:  # the parent is already gone
            os._exit(1)
        # the parent's handlers (pytest's, the CLI's) make no sense here
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (ValueError, OSError):
                pass
        import resource

        if seconds and seconds > 0:
            # a backstop should the parent not be there to kill the child in time
            cpu = int(math.ceil(seconds)) + 1
            _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
            if hard == resource.RLIM_INFINITY or hard > cpu:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
        if memory_bytes > 0:
            base = _vm_size()
            if base:
                limit = base + memory_bytes
                _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
                if hard != resource.RLIM_INFINITY:
                    limit = min(limit, hard)
                resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        try:
            out = ("ok", fn(*args), "")
        except MemoryError:
            out = ("memory", None, "MemoryError")
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            out = ("error", None, f"{type(exc).__name__}: {exc}")
        try:
            payload = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", None, "MemoryError"))
        except Exception as exc:  # noqa: BLE001
            payload = pickle.dumps(("error", None, f"result not picklable: {exc}"))
        view = memoryview(payload)
        while view:
            n = os.write(w, view)
            view = view[n:]
    except BaseException:  # noqa: BLE001 - whatever happens, do not return into the parent's code
        code = 70
    finally:
        os._exit(code)


def run_bounded(fn: Callable, args: tuple = (), *, memory_bytes: int = 0, seconds: float = 0.0) -> Outcome:
    """Call ``fn(*args)`` in a forked child limited to ``memory_bytes`` more
    virtual memory than the parent has (0: unlimited) and ``seconds`` of wall
    clock (0 or less: unlimited).  Never raises for what happens in the child;
    an exception raised in the parent while waiting (e.g. a time budget
    signal) kills the child and propagates."""
    t0 = time.monotonic()
    if not can_fork():
        try:
            return Outcome("ok", fn(*args), seconds=time.monotonic() - t0)
        except MemoryError:
            return Outcome("memory", detail="MemoryError", seconds=time.monotonic() - t0)
        except Exception as exc:  # noqa: BLE001
            return Outcome("error", detail=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - t0)
    r, w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        _child(fn, args, memory_bytes, seconds, parent, w)
    os.close(w)
    end = t0 + seconds if seconds and seconds > 0 else None
    chunks: list[bytes] = []
    timed_out = False
    finished = False
    try:
        while True:
            timeout = None if end is None else max(0.0, end - time.monotonic())
            ready, _, _ = select.select([r], [], [], timeout)
            if not ready:
                timed_out = True
                break
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        finished = not timed_out
    finally:
        os.close(r)
        if not finished:  # time is up, or the parent was interrupted while waiting
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - t0
    if timed_out:
        return Outcome("timeout", detail=f"killed after {elapsed:.1f} s", seconds=elapsed)
    if chunks:
        try:
            kind, value, detail = pickle.loads(b"".join(chunks))
            return Outcome(kind, value, detail, seconds=elapsed)
        except Exception as exc:  # noqa: BLE001 - truncated by a crash
            return Outcome("crashed", detail=f"unreadable result ({type(exc).__name__})", seconds=elapsed)
    if status is not None and os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == getattr(signal, "SIGXCPU", None):
            return Outcome("timeout", detail=f"CPU time limit reached after {elapsed:.1f} s", seconds=elapsed)
        # pdfium aborts (SIGABRT/SIGTRAP/SIGSEGV) when an allocation fails under the memory limit
        kind = "memory" if memory_bytes > 0 and sig in (signal.SIGABRT, signal.SIGSEGV, signal.SIGTRAP, signal.SIGBUS) else "crashed"
        return Outcome(kind, detail=f"child died of {name}", seconds=elapsed)
    code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else -1
    return Outcome("crashed", detail=f"child exited with code {code} and no result", seconds=elapsed)
