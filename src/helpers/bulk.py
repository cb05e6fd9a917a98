"""The report files a folder or a zip archive holds, for ``python -m helpers add``.

:func:`expand` turns the paths given to ``add`` into :class:`Item` s: a file is
itself, a folder is every report file under it (sorted, hidden files and
``sources.csv`` left out), a ``.zip`` archive is every report file it holds.
Entries that are not reports are listed as ``skipped`` with the reason; archive
entries that are unsafe are ``refused``:

* a name that is absolute, has a drive letter or a ``..`` component (it could
  write outside the folder it is unpacked to) — nothing is ever unpacked under
  an entry's own name, but such an archive is not trusted either;
* more members than ``Limits.max_zip_entries``;
* a member larger than ``Limits.max_file_bytes`` or that inflates more than
  ``Limits.max_zip_ratio`` times (zip bombs) — checked against the sizes the
  archive declares and again while inflating, since declared sizes can lie.

A member is inflated into a private temporary folder, used, and removed before
the next one, so at most one member's bytes are on disk at a time.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

from .limits import Limits

REPORT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".shtml", ".xhtml", ".pdf", ".docx")
"""File endings taken as reports inside folders and archives (the forms the readers read)."""

_SKIP_NAMES = {"sources.csv"}
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Item:
    """One input of ``add``.

    ``label`` names it for messages and provenance (``downloads/a.pdf``,
    ``reports.zip!2023/a.pdf``); ``path`` is a readable file holding its bytes
    (valid while the iteration is at this item), or ``None`` when ``status``
    says it is not added: ``missing``, ``skipped`` or ``refused`` with ``reason``.
    """

    label: str
    path: Path | None
    status: str = "file"
    reason: str = ""
    member: str = ""


def is_report_name(name: str) -> bool:
    return name.lower().endswith(REPORT_SUFFIXES)


def is_archive(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and path.is_file()


def unsafe_member_name(name: str) -> str | None:
    """Why an archive member name is unsafe, or ``None``."""
    p = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or p.is_absolute():
        return "absolute path"
    if len(name) > 1 and name[1] == ":":
        return "drive letter in the path"
    if ".." in p.parts:
        return "'..' in the path"
    return None


def expand(paths: list[str | os.PathLike[str]], limits: Limits | None = None) -> Iterator[Item]:
    """Every input of ``paths`` in order (see the module documentation)."""
    lim = limits or Limits.from_env()
    for given in paths:
        src = Path(given)
        if src.is_dir():
            yield from _folder(src, lim)
        elif is_archive(src):
            yield from _archive(src, str(src), lim)
        elif src.is_file():
            yield Item(str(src), src)
        else:
            yield Item(str(src), None, "missing", "no such file")


def _folder(folder: Path, lim: Limits) -> Iterator[Item]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.startswith(".") or name in _SKIP_NAMES:
                continue
            if is_archive(path):
                yield from _archive(path, str(path), lim)
            elif is_report_name(name):
                yield Item(str(path), path)
            else:
                yield Item(str(path), None, "skipped", f"not a report file ({path.suffix or 'no ending'})")


def _archive(archive: Path, label: str, lim: Limits) -> Iterator[Item]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Item(label, None, "refused", f"not a readable zip archive ({exc})")
        return
    with zf, tempfile.TemporaryDirectory(prefix="gidr-add-") as tmp:
        infos = zf.infolist()
        if len(infos) > lim.max_zip_entries:
            yield Item(
                label, None, "refused",
                lim.refusal(label, f"archive of {len(infos):,} members", "max_zip_entries").split(": ", 1)[1],
            )
            return
        for info in sorted(infos, key=lambda i: i.filename):
            name = info.filename
            entry = f"{label}!{name}"
            if info.is_dir():
                continue
            why = unsafe_member_name(name)
            if why:
                yield Item(entry, None, "refused", f"unsafe member name ({why}); not unpacked", name)
                continue
            base = PurePosixPath(name).name
            if base.startswith(".") or base in _SKIP_NAMES:
                continue
            if not is_report_name(base):
                yield Item(entry, None, "skipped", f"not a report file ({PurePosixPath(base).suffix or 'no ending'})", name)
                continue
            refusal = _bomb(info, lim)
            if refusal:
                yield Item(entry, None, "refused", refusal, name)
                continue
            target = Path(tmp) / base
            try:
                _inflate(zf, info, target, lim)
            except _Refused as exc:
                yield Item(entry, None, "refused", str(exc), name)
                continue
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
                yield Item(entry, None, "refused", f"cannot be unpacked ({type(exc).__name__}: {exc})", name)
                continue
            try:
                yield Item(entry, target, member=name)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()


class _Refused(Exception):
    pass


def _bomb(info: zipfile.ZipInfo, lim: Limits) -> str | None:
    """Why a member's declared sizes are over the limits, or ``None``."""
    if info.file_size > lim.max_file_bytes:
        return (
            f"declares {info.file_size:,} bytes unpacked, over the limit of {lim.show('max_file_bytes')} "
            f"(max_file_bytes); not unpacked — {lim.how_to_raise('max_file_bytes')}"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > lim.max_zip_ratio and info.file_size > _CHUNK:
        return (
            f"inflates {ratio:,.0f} times, over the limit of {lim.show('max_zip_ratio')} (max_zip_ratio); "
            f"not unpacked — {lim.how_to_raise('max_zip_ratio')}"
        )
    return None


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, lim: Limits) -> None:
    """Unpack one member to ``target``, stopping as soon as it exceeds what it
    declared or the limits (the declared sizes of a hostile archive can lie)."""
    cap = min(lim.max_file_bytes, max(info.file_size, 0))
    ratio_cap = max(int(lim.max_zip_ratio * max(info.compress_size, 1)), _CHUNK)
    written = 0
    try:
        with zf.open(info) as inp, open(target, "wb") as out:
            while chunk := inp.read(_CHUNK):
                written += len(chunk)
                if written > cap or written > ratio_cap:
                    raise _Refused(
                        f"inflates past its declared size or the limits (max_file_bytes "
                        f"{lim.show('max_file_bytes')}, max_zip_ratio {lim.show('max_zip_ratio')}); not unpacked"
                    )
                out.write(chunk)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise


__all__ = ["Item", "REPORT_SUFFIXES", "expand", "is_archive", "is_report_name", "unsafe_member_name"]
