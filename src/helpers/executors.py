"""Where the build's per-file step runs: in process, in a local pool of worker
processes, or on a dask.distributed cluster.

Every executor takes the same work items, ``(path, level, limits)``, runs
:func:`extract_item` on each (or :func:`encoded_item`: the results already
encoded for the cache, so the worker, not the main process, pays for
pickling them) and yields ``(index, result)`` **in the order of the items**,
as soon as the next one in order is done, so the build can write the cache
and read each file while the rest is being extracted, and its output does
not depend on which worker finished first.

* ``local`` — one process (``jobs=1``) or a ``ProcessPoolExecutor`` of
  ``jobs`` workers.  Workers ignore SIGINT (the main process stops the pool)
  and die with the main process.  Each keeps one memory-capped pdfium child
  for all its PDFs (:func:`helpers.read.sandbox.use_pool`).
* ``dask`` — ``distributed.Client(scheduler)``: the items are sent as paths,
  so raw files are read where the workers are (the path must be valid there:
  a shared file system or the same checkout).  When a worker dies mid-task the
  scheduler gives its tasks to another worker (up to
  ``distributed.scheduler.allowed-failures`` times); no report is lost.
  PDFs are read with a fork per file there (a pooled child dies with the
  thread that forked it, and dask retires idle threads).
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

from .cache import encode
from .extract import extract_file
from .limits import Limits
from .read import sandbox
from .result import ExtractResult

Item = tuple[str, "str | None", "Limits | None"]

__all__ = ["extract_item", "encoded_item", "run", "run_local", "run_dask", "EXECUTORS"]

EXECUTORS = ("local", "dask")


def extract_item(item: Item) -> list[ExtractResult]:
    """The per-file step: every report of one raw file."""
    path, level, limits = item
    return extract_file(path, level=level, limits=limits)


def encoded_item(item: Item) -> bytes:
    """The per-file step, its results encoded as the cache stores them
    (:func:`helpers.cache.encode`)."""
    return encode(extract_item(item))


def _worker_init() -> None:
    """In each worker process: leave SIGINT to the main process (which stops
    the pool) and die when the main process dies (a SIGKILLed build must not
    leave workers behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover
            pass
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the main process died before prctl
        os._exit(1)
    sandbox.use_pool(True)


def run_local(items: Sequence[Item], jobs: int = 1, fn: Callable = extract_item) -> Iterator[tuple[int, object]]:
    if jobs <= 1 or len(items) <= 1:
        sandbox.use_pool(True)  # one capped pdfium child for all the PDFs, not a fork each
        try:
            for i, item in enumerate(items):
                yield i, fn(item)
        finally:
            sandbox.use_pool(False)
        return
    ex = ProcessPoolExecutor(jobs, initializer=_worker_init)
    try:
        # chunks keep the pipes busy without holding many results back
        chunk = max(1, min(64, len(items) // (jobs * 8)))
        yield from enumerate(ex.map(fn, items, chunksize=chunk))
    except BaseException:
        # interrupted: drop the queued work, let running chunks end
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown(wait=True)


def run_dask(items: Sequence[Item], scheduler: str | object, window: int = 4096, fn: Callable = extract_item) -> Iterator[tuple[int, object]]:
    """Run on a dask.distributed cluster; ``scheduler`` is its address (or a
    ``distributed.Client`` / ``LocalCluster``).  At most ``window`` tasks are
    in flight, so neither the scheduler nor this process holds the whole
    corpus."""
    from distributed import Client

    own = not isinstance(scheduler, Client)
    client = Client(scheduler, set_as_default=False) if own else scheduler
    try:
        pending = []
        nxt = 0
        run_id = uuid.uuid4().hex[:12]
        for i in range(len(items)):
            while nxt < len(items) and nxt < i + window:
                # pure=False: a task is never shared with another build's
                pending.append(client.submit(fn, items[nxt], pure=False, key=f"gidr-extract-{run_id}-{nxt}"))
                nxt += 1
            fut = pending[i]
            yield i, fut.result()
            pending[i] = None  # the result is released on the cluster
            fut.release()
    finally:
        if own:
            client.close()


def run(
    items: Sequence[Item], executor: str = "local", jobs: int = 1, scheduler=None, fn: Callable = extract_item
) -> Iterator[tuple[int, object]]:
    """``(index, fn(item))`` in the order of ``items`` (see the module documentation)."""
    if executor == "local":
        return run_local(items, jobs, fn)
    if executor == "dask":
        if scheduler is None:
            raise ValueError("the dask executor needs a scheduler address (--scheduler tcp://HOST:PORT)")
        return run_dask(items, scheduler, fn=fn)
    raise ValueError(f"unknown executor {executor!r}; one of {', '.join(EXECUTORS)}")

