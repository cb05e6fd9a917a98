"""The build on dask.distributed: a LocalCluster of two worker processes gives
outputs byte-identical to the single-machine build, and a worker killed in
the middle of the build loses no report."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from helpers.build import build
from tooling.raw_copies import copy_raw

distributed = pytest.importorskip("distributed")

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"
COPIES = 8  # 17 × 8 = 136 files: a build of a few seconds on two workers


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    dst = copy_raw(RAW, tmp_path_factory.mktemp("dask") / "raw", COPIES)
    return dst.resolve()  # workers get absolute paths


@pytest.fixture(scope="module")
def single(raw, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("single") / "processed"
    build(raw, out, progress=False, cache_dir=None)
    return snapshot(out)


@pytest.fixture
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_dask_build_is_byte_identical(raw, single, client, tmp_path):
    summary = build(raw, tmp_path / "processed", progress=False, cache_dir=None, executor="dask", scheduler=client.scheduler.address)
    assert summary.n_extracted == summary.n_files == 17 * COPIES
    assert snapshot(tmp_path / "processed") == single


def test_killed_worker_loses_no_report(raw, single, client, tmp_path):
    pids = client.run(os.getpid)
    killed: dict = {}

    def killer():
        # wait until both workers are busy, then kill one of them mid-build
        end = time.monotonic() + 30
        while time.monotonic() < end:
            busy = {w: t for w, t in client.processing().items() if t}
            if len(busy) == 2:
                time.sleep(0.3)
                worker = sorted(busy)[0]
                killed["tasks"] = len(client.processing().get(worker, ()))
                killed["at"] = time.monotonic()
                os.kill(pids[worker], signal.SIGKILL)
                return
            time.sleep(0.01)

    t = threading.Thread(target=killer)
    t.start()
    summary = build(raw, tmp_path / "processed", progress=False, cache_dir=None, executor="dask", scheduler=client)
    done = time.monotonic()
    t.join()
    assert "at" in killed and killed["at"] < done, "the worker was not killed while the build ran"
    assert killed["tasks"] > 0, "the killed worker held no task"
    assert summary.n_files == 17 * COPIES and sum(summary.by_status.values()) == 17 * COPIES
    assert snapshot(tmp_path / "processed") == single


def test_dask_needs_a_scheduler(raw, tmp_path):
    with pytest.raises(ValueError, match="scheduler address"):
        build(raw, tmp_path / "processed", progress=False, cache_dir=None, executor="dask")
