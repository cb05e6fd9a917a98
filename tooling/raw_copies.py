"""A larger raw folder for build tests: every file of a raw folder copied
``copies`` times under distinct names, listed in a new sources.csv.

The copies are the project's own files under other names (their sources.csv
rows are repeated with the new name), so a build of the folder does real work
and groups each original with its copies as one agency-year.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path


def copy_raw(src: Path, dst: Path, copies: int) -> Path:
    """Fill ``dst`` (created) with ``copies`` copies of every file listed in
    ``src/sources.csv``: the first under its own name, the others as
    ``<stem>.copyNN<suffix>``."""
    dst.mkdir(parents=True)
    with open(src / "sources.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        name = Path(r["file"])
        for k in range(copies):
            new = r["file"] if k == 0 else f"{name.stem}.copy{k:02d}{name.suffix}"
            shutil.copyfile(src / r["file"], dst / new)
            out.append({**r, "file": new})
    with open(dst / "sources.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    return dst
