"""The pooled sandbox child (helpers.read.sandbox.use_pool): the same outcomes
as a fork per call, one child reused across calls, replaced after a call that
ended badly."""

from __future__ import annotations

import os
import signal

import pytest

from helpers.read import sandbox
from helpers.read.sandbox import run_bounded
from test_hostile_files import _allocate, _fail, _sleep  # module-level: sent to the child by reference

MB = 1024 * 1024


def _pid():
    return os.getpid()


def _die():
    os.kill(os.getpid(), signal.SIGUSR1)  # dies of a signal (no core dump, no fault handler output)


@pytest.fixture
def pool():
    sandbox.use_pool(True)
    try:
        yield
    finally:
        sandbox.use_pool(False)


def test_one_child_serves_many_calls(pool):
    pids = {run_bounded(_pid, memory_bytes=64 * MB, seconds=5).value for _ in range(5)}
    assert len(pids) == 1 and os.getpid() not in pids


def test_outcomes_are_those_of_a_fork_per_call(pool):
    ok = run_bounded(_sleep, (0.01,), memory_bytes=64 * MB, seconds=5)
    assert (ok.kind, ok.value) == ("ok", "woke")
    err = run_bounded(_fail, (), memory_bytes=64 * MB, seconds=5)
    assert err.kind == "error" and "ValueError: broken" in err.detail
    slow = run_bounded(_sleep, (30,), memory_bytes=64 * MB, seconds=0.3)
    assert slow.kind == "timeout" and slow.seconds < 2
    big = run_bounded(_allocate, (1024,), memory_bytes=64 * MB, seconds=10)
    assert big.kind == "memory", big
    crash = run_bounded(_die, (), seconds=5)
    assert crash.kind == "crashed" and "SIGUSR1" in crash.detail


def test_child_is_replaced_after_a_bad_call(pool):
    first = run_bounded(_pid, memory_bytes=64 * MB, seconds=5).value
    assert run_bounded(_allocate, (1024,), memory_bytes=64 * MB, seconds=10).kind == "memory"
    second = run_bounded(_pid, memory_bytes=64 * MB, seconds=5).value
    assert second != first
    assert run_bounded(_sleep, (30,), memory_bytes=64 * MB, seconds=0.2).kind == "timeout"
    third = run_bounded(_pid, memory_bytes=64 * MB, seconds=5).value
    assert third not in (first, second)
    # memory within the allowance stays allowed after a refusal
    assert run_bounded(_allocate, (16,), memory_bytes=64 * MB, seconds=10).value == 16 * MB


def test_child_killed_from_outside_is_replaced(pool):
    first = run_bounded(_pid, memory_bytes=64 * MB, seconds=5).value
    os.kill(first, signal.SIGKILL)
    os.waitpid(first, 0)
    assert run_bounded(_pid, memory_bytes=64 * MB, seconds=5).value not in (first, None)


def test_local_functions_fork_per_call(pool):
    def local():
        return os.getpid()

    a = run_bounded(local, memory_bytes=64 * MB, seconds=5).value
    b = run_bounded(local, memory_bytes=64 * MB, seconds=5).value
    assert a != b


def test_pdf_extraction_is_the_same_with_the_pool(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tooling.synth import generate, render

    from helpers.extract import extract_file

    paths = []
    for i in range(3):
        data, suffix = render(generate(i), "pdf", seed=i)
        p = tmp_path / f"synthetic_{i}{suffix}"
        p.write_bytes(data)
        paths.append(str(p))
    forked = [[r.to_json() for r in extract_file(p)] for p in paths]
    sandbox.use_pool(True)
    try:
        pooled = [[r.to_json() for r in extract_file(p)] for p in paths]
    finally:
        sandbox.use_pool(False)
    assert pooled == forked
    assert all(r[0]["status"] in ("ok", "partial") for r in pooled)
