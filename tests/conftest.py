"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path | None:
    """The read-only reference folder: $GIDR_SHARED, else ../shared next to the repository."""
    env = os.environ.get("GIDR_SHARED")
    candidate = Path(env) if env else REPO_ROOT.parent / "shared"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Path of the shared reference material (corpus, docs).

    Missing folder: the test fails under CI (env var ``CI`` set), otherwise it is skipped.
    """
    path = _shared_dir()
    if path is None:
        where = os.environ.get("GIDR_SHARED") or str(REPO_ROOT.parent / "shared")
        msg = (
            f"shared reference folder not found at {where}; "
            "set GIDR_SHARED to the folder holding corpus/ and docs/"
        )
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path
