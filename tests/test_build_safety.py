"""Build safety, with real builds in subprocesses:

* raw files are never modified (content, size, modification time, listing);
* a build interrupted by SIGINT or SIGKILL at any point leaves the previous
  processed data byte for byte (or, if it got that far, the complete new
  data: never a mix, never nothing), and the next build cleans up and succeeds;
* two builds started together into the same folder both finish, serialised by
  the lock, and leave outputs identical to a single build; a reader polling
  the folder meanwhile never sees it incomplete.

The raw folder is the project's transcriptions copied many times under
distinct names (listed in a temporary sources.csv), so that a build does real
work for a few seconds.  The "previous" outputs come from the original 17
files, so they differ from what the interrupted builds would write.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import helpers.build as build_module
from helpers.build import OUTPUTS, recover
from tooling.raw_copies import copy_raw

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"
COPIES = 6
# flat CSV and Parquet files, and a folder of year partitions, per table
EXPECTED_FILES = {f"{n}.{ext}" for n in OUTPUTS for ext in ("csv", "parquet")} | set(OUTPUTS)


def make_raw(dst: Path, copies: int) -> Path:
    return copy_raw(RAW, dst, copies)


def start_build(raw: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "helpers", "build", "--raw", str(raw), "--out", str(out), "--no-progress", *extra],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_build(raw: Path, out: Path) -> subprocess.CompletedProcess:
    proc = start_build(raw, out)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr[-3000:]
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every output file by its path under ``folder`` (year partitions included)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}-"))


def raw_state(raw: Path) -> dict[str, tuple[str, int, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(raw.iterdir())
    }


RAW_STATE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def big_raw(tmp_path_factory) -> Path:
    raw = make_raw(tmp_path_factory.mktemp("raw") / "raw", COPIES)
    RAW_STATE["before"] = raw_state(raw)  # compared after every build of this module
    return raw


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> dict[str, bytes]:
    """Outputs of an earlier build (of the 17 original files)."""
    out = tmp_path_factory.mktemp("previous") / "processed"
    run_build(RAW, out)
    return snapshot(out)


@pytest.fixture(scope="module")
def reference(big_raw, tmp_path_factory) -> tuple[dict[str, bytes], float]:
    """Outputs of one uninterrupted build of the big raw folder, and its duration."""
    out = tmp_path_factory.mktemp("reference") / "processed"
    t0 = time.monotonic()
    run_build(big_raw, out)
    return snapshot(out), time.monotonic() - t0


def with_previous(tmp_path: Path, previous: dict[str, bytes], name: str = "processed") -> Path:
    out = tmp_path / name
    out.mkdir()
    for name, data in previous.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return out


def wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.002)
    return False


# ----------------------------------------------------------------- interruptions

_RND = random.Random(20240601)
# where to interrupt: a fraction of a full build's duration (extraction, tables),
# or the moment the staging folder appears (writing the outputs)
POINTS = [("time", round(_RND.uniform(0.3, 0.6), 3)), ("time", round(_RND.uniform(0.6, 0.95), 3)), ("staging", 0.0)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("when, fraction", POINTS, ids=[f"{w}-{f}" for w, f in POINTS])
def test_interrupted_build_keeps_previous_outputs_and_next_build_recovers(
    big_raw, previous, reference, tmp_path, sig, when, fraction
):
    ref, duration = reference
    out = with_previous(tmp_path, previous)
    proc = start_build(big_raw, out)
    if when == "staging":
        assert wait_for(lambda: leftovers(out) or proc.poll() is not None, 60), "the build never staged"
    else:
        time.sleep(duration * fraction)
    sent = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=60)
    stopped = time.monotonic() - sent
    assert stopped < 10, f"the build took {stopped:.1f} s to stop"

    after = snapshot(out)
    # the complete previous outputs, or (if the signal came after the swap)
    # the complete new ones: never a mix, never nothing
    assert after in (previous, ref), "the outputs were damaged by an interrupted build"
    if proc.returncode == 0:
        assert after == ref  # it finished before the signal arrived
    elif sig == signal.SIGINT:
        assert not leftovers(out), f"SIGINT left {leftovers(out)}"
        err = proc.stderr.read()
        if proc.returncode != -signal.SIGINT:  # (-2: interrupted while Python was still starting)
            assert proc.returncode == 130, err[-2000:]
            assert "Traceback" not in err and "build interrupted" in err, err[-2000:]

    if sig == signal.SIGKILL:
        # the next build cleans up whatever was left and succeeds
        run_build(big_raw, out)
        assert snapshot(out) == ref
    else:  # nothing to clean (checked above); the recovery step leaves the outputs alone
        recover(out)
        assert snapshot(out) == after
    assert not leftovers(out), leftovers(out)


def test_recover_after_a_kill_between_the_two_renames(tmp_path, previous):
    """The state a kill between moving the old folder away and moving the new
    one in would leave (when the folders cannot be exchanged atomically)."""
    out = tmp_path / "processed"
    old = tmp_path / ".processed-old-4242"
    with_previous(old.parent, previous, old.name)
    staging = tmp_path / ".processed-staging-4242"
    staging.mkdir()
    (staging / "cells.csv").write_text("half written")
    recover(out)
    assert snapshot(out) == previous
    assert not leftovers(out)


def test_recover_after_a_kill_right_after_the_exchange(tmp_path, previous, reference):
    """After an atomic exchange the old outputs sit in the staging folder until
    removed: a kill there leaves the new outputs in place."""
    out = with_previous(tmp_path, reference[0])
    staging = tmp_path / ".processed-staging-4242"
    with_previous(staging.parent, previous, staging.name)
    recover(out)
    assert snapshot(out) == reference[0]
    assert not leftovers(out)


def test_swap_is_atomic_or_rolled_back(tmp_path, previous, reference, monkeypatch):
    """A failure (or interruption) in the middle of the swap puts the previous
    outputs back at once."""
    out = with_previous(tmp_path, previous)
    staging = with_previous(tmp_path, reference[0], ".processed-staging-1")
    monkeypatch.setattr(build_module, "_exchange", lambda a, b: False)  # no atomic exchange here
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:
            raise KeyboardInterrupt  # between the two renames
        return real_replace(src, dst)

    monkeypatch.setattr(build_module.os, "replace", flaky_replace)
    with pytest.raises(KeyboardInterrupt):
        build_module._swap_in(staging, out)
    monkeypatch.setattr(build_module.os, "replace", real_replace)
    assert snapshot(out) == previous


# ----------------------------------------------------------------- concurrency


def test_two_concurrent_builds(big_raw, previous, reference, tmp_path):
    ref, _ = reference
    out = with_previous(tmp_path, previous)
    seen: list[set[str]] = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                names = {p.name for p in out.iterdir()}
            except FileNotFoundError:
                names = None
            seen.append(names)
            time.sleep(0.005)

    t = threading.Thread(target=reader)
    t.start()
    try:
        a = start_build(big_raw, out)
        b = start_build(big_raw, out)
        outs = [p.communicate(timeout=180) for p in (a, b)]
    finally:
        stop.set()
        t.join()
    assert (a.returncode, b.returncode) == (0, 0), [o[1][-2000:] for o in outs]
    assert any("another build is writing" in err for _, err in outs), "the second build did not wait for the lock"
    assert snapshot(out) == ref
    assert not leftovers(out)
    # the folder is always complete; where folders cannot be exchanged atomically
    # it may be missing for an instant between the two moves, never incomplete
    a_dir, b_dir = tmp_path / "x", tmp_path / "y"
    a_dir.mkdir(), b_dir.mkdir()
    atomic = build_module._exchange(a_dir, b_dir)
    allowed = [EXPECTED_FILES] if atomic else [EXPECTED_FILES, None]
    assert seen and all(names in allowed for names in seen), {
        frozenset(n) if n is not None else None for n in seen if n != EXPECTED_FILES
    }


# ----------------------------------------------------------------- raw files


def test_raw_files_never_modified(big_raw, reference, tmp_path):
    """Content, size and modification time of every raw file, and the listing
    of the raw folder, are what they were before the first build of this
    module (the interrupted, recovering and concurrent builds above included)."""
    out = tmp_path / "processed"
    proc = start_build(big_raw, out)  # one more, killed half-way
    time.sleep(reference[1] * 0.5)
    proc.kill()
    proc.wait(timeout=30)
    run_build(big_raw, out)
    assert raw_state(big_raw) == RAW_STATE["before"]
    assert not [p for p in big_raw.iterdir() if p.name.startswith(".")], "the build wrote into the raw folder"
