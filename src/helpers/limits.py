"""Resource limits for reading one report file: the one place where they are set.

A report is a few pages; a hostile or broken file (a zip bomb, a PDF with
thousands of pages or a content stream that inflates to gigabytes, an HTML page
of millions of tags, a text dump of hundreds of MB) must be refused quickly and
with a clear message instead of exhausting time or memory.  Every limit is a
field of :class:`Limits`; the defaults are generous for real reports (the
largest real report in the corpus is far below each of them).

Three ways to set them, later ones winning:

1. the defaults below;
2. environment variables (``GIDR_MAX_FILE_MB=400``; see :data:`SPECS`);
3. command-line options of ``python -m helpers extract`` and ``build``
   (``--max-file-mb 400``), or a :class:`Limits` passed to the library
   functions (``extract_path(path, limits=Limits(max_pdf_pages=2000))``).

Sizes are bytes in :class:`Limits` and MB (MiB, fractions allowed) in the
environment and on the command line.  A file over a limit gets status
``unsupported`` and a message naming the file, the limit and how to raise it
(:meth:`Limits.refusal`).

The wall-clock budget (:attr:`Limits.max_seconds`) covers reading, extraction
and validation of one file.  It is enforced by :func:`time_budget` (a timer
signal in the main thread, which interrupts Python code) and by the PDF reader,
whose pdfium work runs in a child process that is killed when the budget is
spent or its memory allowance (:attr:`Limits.max_pdf_memory_bytes`) is
exceeded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Mapping

__all__ = ["Limits", "SPECS", "BudgetExceeded", "Deadline", "time_budget", "add_arguments", "from_args", "current"]

MB = 1024 * 1024


def _spec(env: str, flag: str, unit: str, help: str) -> dict:
    return {"env": env, "flag": flag, "unit": unit, "help": help}


@dataclass(frozen=True)
class Limits:
    """Limits for reading one file (see the module documentation)."""

    max_file_bytes: int = field(
        default=100 * MB,
        metadata=_spec("GIDR_MAX_FILE_MB", "--max-file-mb", "MB", "largest file read at all (checked before reading)"),
    )
    max_text_chars: int = field(
        default=2_000_000,
        metadata=_spec(
            "GIDR_MAX_TEXT_CHARS", "--max-text-chars", "chars",
            "most characters of text taken from one file (text dumps, HTML, PDF and DOCX text)",
        ),
    )
    max_html_bytes: int = field(
        default=20 * MB,
        metadata=_spec("GIDR_MAX_HTML_MB", "--max-html-mb", "MB", "largest HTML page parsed"),
    )
    max_html_nodes: int = field(
        default=200_000,
        metadata=_spec("GIDR_MAX_HTML_NODES", "--max-html-nodes", "count", "most elements (tags) in an HTML page"),
    )
    max_docx_xml_bytes: int = field(
        default=20 * MB,
        metadata=_spec(
            "GIDR_MAX_DOCX_XML_MB", "--max-docx-xml-mb", "MB", "largest uncompressed main part (word/document.xml) of a DOCX"
        ),
    )
    max_zip_ratio: float = field(
        default=200.0,
        metadata=_spec(
            "GIDR_MAX_ZIP_RATIO", "--max-zip-ratio", "ratio",
            "largest uncompressed/compressed size ratio of a DOCX part or a PDF stream (zip bombs)",
        ),
    )
    max_zip_entries: int = field(
        default=10_000,
        metadata=_spec("GIDR_MAX_ZIP_ENTRIES", "--max-zip-entries", "count", "most members in a DOCX package"),
    )
    max_pdf_pages: int = field(
        default=500,
        metadata=_spec("GIDR_MAX_PDF_PAGES", "--max-pdf-pages", "count", "most pages in a PDF"),
    )
    max_pdf_page_chars: int = field(
        default=200_000,
        metadata=_spec("GIDR_MAX_PDF_PAGE_CHARS", "--max-pdf-page-chars", "chars", "most text characters on one PDF page"),
    )
    max_pdf_object_bytes: int = field(
        default=32 * MB,
        metadata=_spec(
            "GIDR_MAX_PDF_OBJECT_MB", "--max-pdf-object-mb", "MB",
            "largest decompressed PDF stream (content, font, object stream; images are not decoded)",
        ),
    )
    max_pdf_decoded_bytes: int = field(
        default=256 * MB,
        metadata=_spec(
            "GIDR_MAX_PDF_DECODED_MB", "--max-pdf-decoded-mb", "MB", "most decompressed bytes of all PDF streams together"
        ),
    )
    max_pdf_memory_bytes: int = field(
        default=400 * MB,
        metadata=_spec(
            "GIDR_MAX_PDF_MEMORY_MB", "--max-pdf-memory-mb", "MB",
            "memory allowed to pdfium for one PDF (it runs in a child process; 0 = in process, unbounded)",
        ),
    )
    max_seconds: float = field(
        default=60.0,
        metadata=_spec(
            "GIDR_MAX_SECONDS", "--max-seconds", "seconds", "wall-clock budget for reading and extracting one file (0 = none)"
        ),
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or v < 0:
                raise ValueError(f"limit {f.name} must be a number >= 0, not {v!r}")

    # -------------------------------------------------------------- construction
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, base: "Limits | None" = None) -> "Limits":
        """``base`` (default: the defaults) with the ``GIDR_MAX_*`` variables of
        ``environ`` (default: ``os.environ``) applied.  A malformed value raises
        ``ValueError`` naming the variable."""
        env = os.environ if environ is None else environ
        changes = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or not raw.strip():
                continue
            changes[f.name] = _parse(f, raw, f.metadata["env"])
        base = base or cls()
        return dataclasses.replace(base, **changes) if changes else base

    def replace(self, **changes) -> "Limits":
        return dataclasses.replace(self, **changes)

    # -------------------------------------------------------------- messages
    def show(self, name: str) -> str:
        """A limit's value as it is set on the command line: ``100 MB``, ``500``."""
        f = _FIELDS[name]
        v = getattr(self, name)
        unit = f.metadata["unit"]
        if unit == "MB":
            if v < MB:
                return f"{v:,} bytes"
            mb = v / MB
            return f"{mb:,.0f} MB" if mb == int(mb) else f"{mb:,.4g} MB"
        if unit == "seconds":
            return f"{v:g} s"
        return f"{v:,g}" if isinstance(v, float) else f"{v:,}"

    @staticmethod
    def how_to_raise(name: str) -> str:
        f = _FIELDS[name]
        unit = f.metadata["unit"]
        arg = {"MB": "MB", "seconds": "S", "ratio": "R"}.get(unit, "N")
        return f"raise it with {f.metadata['flag']} {arg} or the environment variable {f.metadata['env']}"

    def refusal(self, path: str, what: str, name: str) -> str:
        """``{path}: {what}, over the limit of {value} ({name}); not read — raise it with …``"""
        return f"{path}: {what}, over the limit of {self.show(name)} ({name}); not read — {self.how_to_raise(name)}"


_FIELDS = {f.name: f for f in dataclasses.fields(Limits)}
SPECS: dict[str, dict] = {name: dict(f.metadata) for name, f in _FIELDS.items()}
"""For each limit: its environment variable, command-line flag, unit and help text."""


def _parse(f: dataclasses.Field, raw: str, where: str):
    unit = f.metadata["unit"]
    try:
        v = float(raw.strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"{where}={raw!r}: not a number") from None
    if math.isnan(v) or math.isinf(v) or v < 0:
        raise ValueError(f"{where}={raw!r}: must be a finite number >= 0")
    if unit == "MB":
        return int(v * MB)
    if f.type in ("int", int):
        if v != int(v):
            raise ValueError(f"{where}={raw!r}: must be a whole number")
        return int(v)
    return v


def current() -> Limits:
    """The limits in force when none are passed: defaults plus environment."""
    return Limits.from_env()


# ------------------------------------------------------------------ command line


def add_arguments(parser) -> None:
    """Add ``--max-…`` options (one per limit) to an argparse parser."""
    group = parser.add_argument_group(
        "limits", "resource limits per file (defaults, overridden by GIDR_MAX_* environment variables, then by these)"
    )
    for name, f in _FIELDS.items():
        md = f.metadata
        default = Limits().show(name)
        group.add_argument(
            md["flag"],
            dest=f"limit_{name}",
            metavar={"MB": "MB", "seconds": "S", "ratio": "R"}.get(md["unit"], "N"),
            default=None,
            help=f"{md['help']} (default {default}; env {md['env']})",
        )


def from_args(args) -> Limits:
    """Limits from the environment and an argparse namespace (see :func:`add_arguments`).
    Raises ``ValueError`` naming the option for a malformed value."""
    limits = Limits.from_env()
    changes = {}
    for name, f in _FIELDS.items():
        raw = getattr(args, f"limit_{name}", None)
        if raw is not None:
            changes[name] = _parse(f, str(raw), f.metadata["flag"])
    return limits.replace(**changes) if changes else limits


# ------------------------------------------------------------------ time budget


class BudgetExceeded(BaseException):
    """The wall-clock budget of one file is spent.  A ``BaseException`` so that
    the readers' ``except Exception`` guards do not turn it into a reader failure."""


class Deadline:
    """The end of a file's wall-clock budget (``seconds <= 0``: none)."""

    def __init__(self, seconds: float, path: str = ""):
        self.seconds = seconds
        self.path = path
        self.end = time.monotonic() + seconds if seconds and seconds > 0 else math.inf

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def check(self) -> None:
        if self.expired():
            raise BudgetExceeded(self.path)


@contextlib.contextmanager
def time_budget(seconds: float, path: str = "") -> Iterator[Deadline]:
    """Run a block under a wall-clock budget; :class:`BudgetExceeded` is raised
    when it is spent.

    In the main thread, when no one else handles ``SIGALRM``, a one-shot timer
    interrupts Python code; elsewhere only the cooperative
    :meth:`Deadline.check` calls (and the PDF child's timeout) apply.
    """
    deadline = Deadline(seconds, path)
    armed = False
    previous = None
    if (
        deadline.end != math.inf
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    ):

        def _expired(signum, frame):
            raise BudgetExceeded(path)

        previous = signal.signal(signal.SIGALRM, _expired)
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
        armed = True
    try:
        yield deadline
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
