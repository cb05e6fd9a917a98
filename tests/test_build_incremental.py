"""The incremental build: per-file results cached by content, extractor
version and limits; the stat cache; a no-change rebuild that writes nothing;
outputs byte-identical to a build without cache, whatever the number of jobs."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import helpers.cache as cache_module
from helpers.build import build
from helpers.cache import _package_files, decode, encode
from helpers.extract import extract_file
from helpers.limits import Limits
from helpers.sources import FIELDS, sha256_file
from tooling.raw_copies import copy_raw as raw_copies

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW = REPO_ROOT / "data" / "raw"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(raw: Path, out: Path, **kw):
    return build(raw, out, progress=False, **kw)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, bytes]:
    """Outputs of a build of data/raw without any cache."""
    out = tmp_path_factory.mktemp("fresh") / "processed"
    run(RAW, out, cache_dir=None)
    return snapshot(out)


def copy_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    return raw


def test_second_build_extracts_nothing_and_writes_nothing(tmp_path, fresh):
    out = tmp_path / "processed"
    first = run(RAW, out, cache_dir=tmp_path / "cache")
    assert first.n_extracted == first.n_files == 17 and not first.up_to_date
    assert snapshot(out) == fresh
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = run(RAW, out, cache_dir=tmp_path / "cache")
    assert again.up_to_date and again.n_extracted == 0 and again.n_hashed == 0
    assert again.by_status == first.by_status and again.by_severity == first.by_severity
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes  # nothing rewritten


def test_cached_results_give_the_same_outputs_into_a_new_folder(tmp_path, fresh):
    store = tmp_path / "cache"
    run(RAW, tmp_path / "a", cache_dir=store)
    second = run(RAW, tmp_path / "b", cache_dir=store)  # another output folder: tables rebuilt from the cache
    assert second.n_extracted == 0 and not second.up_to_date
    assert snapshot(tmp_path / "b") == fresh


def test_outputs_touched_by_hand_are_rewritten(tmp_path, fresh):
    out, store = tmp_path / "processed", tmp_path / "cache"
    run(RAW, out, cache_dir=store)
    (out / "t3.csv").write_text("edited by hand\n", encoding="utf-8")
    again = run(RAW, out, cache_dir=store)
    assert not again.up_to_date and again.n_extracted == 0
    assert snapshot(out) == fresh


def test_adding_one_file_extracts_only_it(tmp_path):
    raw = copy_raw(tmp_path)
    store = tmp_path / "cache"
    run(raw, tmp_path / "processed", cache_dir=store)
    text = (raw / "pingtan_2021.transcribed.txt").read_bytes()
    name = "pingtan_2021.copy.txt"
    (raw / name).write_bytes(text)
    with open(raw / "sources.csv", "a", encoding="utf-8", newline="") as f:
        row = {k: "" for k in FIELDS}
        row.update(file=name, sha256=sha256_file(raw / name), kind="transcription", source="test", retrieved="2026-01-01")
        csv.DictWriter(f, fieldnames=list(FIELDS), lineterminator="\n").writerow(row)
    added = run(raw, tmp_path / "processed", cache_dir=store)
    assert (added.n_extracted, added.n_hashed, added.n_files) == (1, 1, 18)  # only the new file is read
    run(raw, tmp_path / "nocache", cache_dir=None)
    assert snapshot(tmp_path / "processed") == snapshot(tmp_path / "nocache")


def test_changed_limits_or_extractor_invalidate_every_entry(tmp_path, monkeypatch):
    store = tmp_path / "cache"
    run(RAW, tmp_path / "a", cache_dir=store)
    other_limits = run(RAW, tmp_path / "b", cache_dir=store, limits=Limits(max_seconds=59))
    assert other_limits.n_extracted == 17
    monkeypatch.setattr(cache_module, "extractor_version", lambda: "another extractor")
    other_code = run(RAW, tmp_path / "c", cache_dir=store)
    assert other_code.n_extracted == 17
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "c")


def test_extractor_version_covers_extraction_and_not_the_build():
    files = {rel for rel, _ in _package_files(extraction_only=True)}
    for needed in ("extract.py", "tokens.py", "read/pdf.py", "read/html.py", "validate.py", "data/codebook.csv"):
        assert needed in files, needed
    for not_needed in ("build.py", "cache.py", "identity.py", "derive.py", "research/load.py", "data/metrics.csv"):
        assert not_needed not in files, not_needed


def test_damaged_entry_is_recomputed(tmp_path, fresh):
    store = tmp_path / "cache"
    run(RAW, tmp_path / "a", cache_dir=store)
    with sqlite3.connect(store / "build.sqlite") as db:
        key = db.execute("SELECT key FROM results ORDER BY key LIMIT 1").fetchone()[0]
        db.execute("UPDATE results SET data = ? WHERE key = ?", (b"\x78\x01 not zlib", key))
    again = run(RAW, tmp_path / "b", cache_dir=store)
    assert again.n_extracted == 1
    assert snapshot(tmp_path / "b") == fresh
    with sqlite3.connect(store / "build.sqlite") as db:  # and replaced by a good entry
        decode(db.execute("SELECT data FROM results WHERE key = ?", (key,)).fetchone()[0])


def test_damaged_database_is_moved_aside(tmp_path, fresh, capsys):
    store = tmp_path / "cache"
    store.mkdir()
    (store / "build.sqlite").write_bytes(b"this is not a database" * 100)
    summary = run(RAW, tmp_path / "a", cache_dir=store)
    assert summary.n_extracted == 17
    assert snapshot(tmp_path / "a") == fresh
    assert "not a usable cache" in capsys.readouterr().err
    assert [p.name for p in store.iterdir() if ".damaged-" in p.name]


def test_encode_decode_round_trip():
    n_narrative = 0
    for p in sorted(RAW.glob("*.txt")):
        rs = extract_file(str(p))
        n_narrative += sum(len(r.narrative) for r in rs)
        back = decode(encode(rs))
        assert [r.to_json() for r in back] == [r.to_json() for r in rs]
    assert n_narrative >= 1  # the narrative layer goes through the cache too
    with pytest.raises(ValueError, match="damaged cache entry"):
        decode(b"garbage")


def test_stat_cache_and_rehash(tmp_path):
    """A file rewritten with other bytes of the same size, its modification time
    put back, is still seen (its ctime changed) and refused; ``rehash`` hashes
    every file."""
    raw = copy_raw(tmp_path)
    store = tmp_path / "cache"
    run(raw, tmp_path / "processed", cache_dir=store)
    victim = raw / "pingtan_2022.transcribed.txt"
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed = run(raw, tmp_path / "processed", cache_dir=store)
    assert changed.refused == [victim.name] and changed.n_hashed == 1
    everything = run(raw, tmp_path / "processed", cache_dir=store, rehash=True)
    assert everything.n_hashed == everything.n_files == 17 and everything.refused == [victim.name]


def test_jobs_do_not_change_the_outputs(tmp_path, fresh):
    raw = raw_copies(RAW, tmp_path / "raw", 3)  # three names per file: enough work for a pool
    run(raw, tmp_path / "one", cache_dir=None, jobs=1)
    run(raw, tmp_path / "two", cache_dir=None, jobs=2)
    a, b = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert a == b
    assert len(a) > len(fresh) / 2
