"""Run a function in a forked child with a memory allowance and a time limit.

Used for pdfium, whose C code has no limits of its own: a 70 KB PDF whose page
draws a few million characters makes it allocate gigabytes, and a content
stream that inflates to 800 MB is decoded in full when its page is loaded.
Neither can be interrupted from Python.  In a child process both are bounded
for certain: ``RLIMIT_AS`` caps the memory (pdfium aborts, Python raises
``MemoryError``) and the parent kills the child when the time is up.

A fork costs a few milliseconds on an idle machine and many more on a busy
one (the page tables of a large process are copied, and every page the child
touches is copied again).  So a build keeps one capped child alive instead
(:func:`use_pool`): the child is forked once, with the same memory allowance
and the same per-call time limit (the parent kills it when the time is up, a
CPU-time limit is set before every call as a backstop), serves calls one after
the other, and is replaced after any call that ended badly (memory, timeout,
crash), after one whose memory growth left it with less than half its
allowance, and after :data:`POOL_CALLS` calls.  Only functions that can be
sent by reference (module-level) go to it; others get a fork of their own.
One-off calls (``python -m helpers extract``) fork per call, so that a
child's peak memory is accounted to the caller when it ends.

The child starts with everything the parent has imported (pdfium
initialised), and sends back its result pickled through a pipe.  Where
``fork`` is not available the function runs in process, unbounded.
"""

from __future__ import annotations

import math
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Outcome", "run_bounded", "can_fork", "use_pool", "POOL_CALLS"]

POOL_CALLS = 500
"""Calls a pooled child serves before it is replaced."""


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


def _enter_child(parent: int) -> None:
    """First thing in a forked child: die with the parent, default signal handlers."""
    _die_with_parent()
    if os.getppid() != parent:  # the parent is already gone
        os._exit(1)
    # the parent's handlers (pytest's, the CLI's) make no sense here
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (ValueError, OSError):
            pass


def _cap_cpu(seconds: float) -> None:
    """A CPU-time limit ``seconds`` (+1) from now: a backstop should the parent
    not be there to kill the child in time."""
    import resource

    if seconds and seconds > 0:
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = int(math.ceil(used.ru_utime + used.ru_stime + seconds)) + 1
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or hard > cpu:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))


def _cap_memory(memory_bytes: int) -> int:
    """Limit the address space to its current size plus ``memory_bytes``; the base size."""
    import resource

    base = _vm_size()
    if memory_bytes > 0 and base:
        limit = base + memory_bytes
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return base


def _call(fn: Callable, args: tuple) -> tuple[str, bytes]:
    """Call; what became of it (``kind``), and ``(kind, value, detail)`` pickled."""
    try:
        out = ("ok", fn(*args), "")
    except MemoryError:
        out = ("memory", None, "MemoryError")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out = ("error", None, f"{type(exc).__name__}: {exc}")
    try:
        return out[0], pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return "memory", pickle.dumps(("memory", None, "MemoryError"))
    except Exception as exc:  # noqa: BLE001
        return "error", pickle.dumps(("error", None, f"result not picklable: {exc}"))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _child(fn: Callable, args: tuple, memory_bytes: int, seconds: float, parent: int, w: int) -> None:
    """Runs in the child: never returns."""
    code = 0
    try:
        _enter_child(parent)
        _cap_cpu(seconds)
        _cap_memory(memory_bytes)
        _write_all(w, _call(fn, args)[1])
    except BaseException:  # noqa: BLE001 - whatever happens, do not return into the parent's code
        code = 70
    finally:
        os._exit(code)


def _death(status: int | None, memory_bytes: int, elapsed: float) -> Outcome:
    """What a child that ended without a (whole) result died of."""
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


# ------------------------------------------------------------------ the pooled child

_HEADER = struct.Struct("<Q")
_pool_enabled = False
_pool_lock = threading.Lock()
_servers: dict[int, "_Server"] = {}


def use_pool(enabled: bool = True) -> None:
    """Serve :func:`run_bounded` calls from one long-lived capped child per
    memory allowance (see the module documentation) instead of a fork per call."""
    global _pool_enabled
    _pool_enabled = enabled
    if not enabled:
        with _pool_lock:
            for server in list(_servers.values()):
                server.stop()
            _servers.clear()


def _read_exactly(fd: int, n: int, end: float | None) -> bytes | None:
    """``n`` bytes from ``fd``; None at end of file; raises TimeoutError at ``end``."""
    chunks, got = [], 0
    while got < n:
        timeout = None if end is None else max(0.0, end - time.monotonic())
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _serve(req: int, res: int, memory_bytes: int, parent: int) -> None:
    """The pooled child's loop: never returns."""
    code = 0
    try:
        _enter_child(parent)
        base = _cap_memory(memory_bytes)
        while True:
            head = _read_exactly(req, _HEADER.size, None)
            if head is None:  # the parent closed the pipe
                break
            fn, args, seconds = pickle.loads(_read_exactly(req, _HEADER.unpack(head)[0], None))
            _cap_cpu(seconds)
            kind, payload = _call(fn, args)
            # retire after a memory error, or when the call left less than half of the allowance
            retire = kind == "memory" or bool(memory_bytes > 0 and base and _vm_size() - base > memory_bytes // 2)
            _write_all(res, _HEADER.pack(len(payload)) + bytes([retire]) + payload)
            if retire:
                break
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        os._exit(code)


class _Server:
    """One pooled child (parent side)."""

    def __init__(self, memory_bytes: int):
        self.memory_bytes = memory_bytes
        self.owner = os.getpid()
        self.calls = 0
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(req_w)
            os.close(res_r)
            _serve(req_r, res_w, memory_bytes, self.owner)
        os.close(req_r)
        os.close(res_w)
        self.pid, self.req, self.res = pid, req_w, res_r

    def alive(self) -> bool:
        """The child is still there to serve (it dies with the thread that
        forked it, and may have been killed from outside)."""
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def stop(self) -> int | None:
        """Close the pipes, kill and reap the child (a child that retired is
        already exiting; one that is idle waits for a request that will not
        come); its wait status."""
        if self.owner != os.getpid():  # inherited through a fork: not ours to reap
            return None
        for fd in (self.req, self.res):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            return os.waitpid(self.pid, 0)[1]
        except ChildProcessError:
            return None

    def call(self, request: bytes, seconds: float, t0: float) -> tuple[Outcome, bool]:
        """Send one call; the outcome and whether this child can serve again."""
        end = t0 + seconds if seconds and seconds > 0 else None
        self.calls += 1
        try:
            _write_all(self.req, _HEADER.pack(len(request)) + request)
            head = _read_exactly(self.res, _HEADER.size + 1, end)
            body = None if head is None else _read_exactly(self.res, _HEADER.unpack(head[:-1])[0], end)
        except TimeoutError:
            self.stop()
            elapsed = time.monotonic() - t0
            return Outcome("timeout", detail=f"killed after {elapsed:.1f} s", seconds=elapsed), False
        except OSError:  # the child is gone (broken pipe)
            body = None
        except BaseException:
            self.stop()  # interrupted while waiting: the child goes too
            raise
        if body is None:
            # it died: let it finish dying so that its status says of what
            try:
                status = os.waitpid(self.pid, 0)[1]
            except ChildProcessError:
                status = None
            self.stop()
            return _death(status, self.memory_bytes, time.monotonic() - t0), False
        elapsed = time.monotonic() - t0
        try:
            kind, value, detail = pickle.loads(body)
        except Exception as exc:  # noqa: BLE001
            self.stop()
            return Outcome("crashed", detail=f"unreadable result ({type(exc).__name__})", seconds=elapsed), False
        again = not head[-1] and self.calls < POOL_CALLS
        if not again:
            self.stop()
        return Outcome(kind, value, detail, seconds=elapsed), again


def _pooled(fn: Callable, args: tuple, memory_bytes: int, seconds: float, t0: float) -> Outcome | None:
    """The call served by the pooled child; None when ``fn`` cannot be sent by reference."""
    try:
        request = pickle.dumps((fn, args, seconds), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a local function or lambda: a fork of its own
        return None
    with _pool_lock:
        server = _servers.get(memory_bytes)
        if server is not None and (server.owner != os.getpid() or not server.alive()):
            server = None  # inherited through a fork, or gone
        if server is None:
            server = _servers[memory_bytes] = _Server(memory_bytes)
        outcome, again = server.call(request, seconds, t0)
        if not again:
            _servers.pop(memory_bytes, None)
        return outcome


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
    if _pool_enabled:
        outcome = _pooled(fn, args, memory_bytes, seconds, t0)
        if outcome is not None:
            return outcome
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
    return _death(status, memory_bytes, elapsed)
