"""Downloading reports from government websites into ``data/raw``, with provenance.

``python -m helpers fetch URL…`` or ``fetch --from urls.csv`` (columns ``url``
and optionally ``agency``, ``year``, ``level``, ``province``) downloads each
report and adds it through the same path as ``add``
(:func:`helpers.sources.add_report`: plain name, sha256, detected agency, year
and edition, one row of ``sources.csv`` whose ``source`` is the final URL and
whose ``note`` says when and how it was fetched).

Every URL asked for — and every attachment followed — ends as one row of the
fetch log (``data/fetch-log.csv`` beside ``data/raw``, appended row by row):
``fetched``, ``skipped`` or ``failed`` with the reason, the URL asked for, the
final URL after redirects, the HTTP status, the content type, the charset the
bytes are in, the size, the UTC retrieval time and, for an attachment, the
page it was linked from (``via``).

Being polite and robust:

* ``robots.txt`` is read once per host (:mod:`urllib.robotparser`) and obeyed,
  for every request (a redirect into a disallowed path is not followed);
  a robots.txt that answers 401/403 or cannot be read (5xx, no connection)
  means "do not fetch from this host" for this run;
* at most one request per ``interval`` seconds per host (default 1 s),
  redirects and retries included;
* a User-Agent naming the project and its version;
* connect/read timeouts, and a total time per download (a server that drips
  bytes slower than that is given up);
* retries with exponential backoff on 5xx and 429 answers, timeouts and
  dropped connections; a redirect loop (more than ``max_redirects``) fails at once;
* bodies are streamed and stopped at ``Limits.max_file_bytes``
  (:mod:`helpers.limits`), before reading when Content-Length says so;
* the charset is taken from the bytes, the page's ``<meta>`` and the HTTP
  header, in the order of :func:`helpers.read.encoding.decode_bytes` (a wrong
  header does not win over valid UTF-8); the bytes are stored unchanged.

A page that holds no report tables but links its report as an attachment
(PDF, DOCX, DOC, WPS; a link ending so, or whose text says 附件) is logged as
skipped with that reason, and its attachments are fetched with ``via`` set to
the page.

Resumable: a URL the log already records as fetched (or as the same bytes as a
listed file) is skipped on the next run (``--again`` fetches it anyway), and
bytes already in ``data/raw`` are never stored twice (sha256).
"""

from __future__ import annotations

import csv
import datetime as _dt
import email.message
import os
import re
import tempfile
import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from . import __version__
from .limits import Limits
from .sources import Given, add_report, combine

USER_AGENT = f"gidr-helpers/{__version__} (research software for Government Information Disclosure annual reports)"
LOG_NAME = "fetch-log.csv"
ATTACHMENT_SUFFIXES = (".pdf", ".docx", ".doc", ".wps")
URL_COLUMNS = ("url", "agency", "year", "level", "province")
_SUFFIX_BY_TYPE = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "application/kswps": ".wps",
    "application/vnd.ms-works": ".wps",
}
_KNOWN_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml", ".txt", ".md", ".pdf", ".docx", ".doc", ".wps")
ALREADY = "already fetched"


@dataclass(frozen=True, slots=True)
class Target:
    """One URL to fetch and what is known of it (empty: detect)."""

    url: str
    agency: str = ""
    year: str = ""
    level: str = ""
    province: str = ""
    via: str = ""


@dataclass(frozen=True)
class Settings:
    """How to fetch (see the module documentation); times in seconds."""

    raw_dir: Path = Path("data/raw")
    log: Path | None = None  # default: fetch-log.csv beside raw_dir
    interval: float = 1.0
    timeout: float = 20.0
    total_timeout: float = 300.0
    retries: int = 3
    backoff: float = 2.0
    max_redirects: int = 10
    limits: Limits = field(default_factory=Limits.from_env)
    user_agent: str = USER_AGENT
    again: bool = False
    progress: bool = True

    @property
    def log_path(self) -> Path:
        return self.log if self.log is not None else Path(self.raw_dir).parent / LOG_NAME


@dataclass
class Entry:
    """One row of the fetch log."""

    url: str
    outcome: str = ""
    reason: str = ""
    file: str = ""
    sha256: str = ""
    final_url: str = ""
    http_status: str = ""
    content_type: str = ""
    charset: str = ""
    bytes: str = ""
    retrieved_at: str = ""
    via: str = ""

    def row(self) -> dict[str, str]:
        return {k: str(getattr(self, k)) for k in LOG_FIELDS}


LOG_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Entry))
"""The columns of the fetch log."""


class FetchError(Exception):
    """A download that cannot succeed; the message is the log's reason."""


@dataclass
class Download:
    path: Path
    final_url: str
    status: int
    content_type: str
    size: int
    retrieved_at: str
    charset: str = ""
    charset_note: str = ""
    text: str | None = None


# ---------------------------------------------------------------- politeness


class Throttle:
    """At most one request per ``interval`` seconds to each host."""

    def __init__(self, interval: float):
        self.interval = max(interval, 0.0)
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, 0.0))
            self._next[host] = start + self.interval
        if start > now:
            time.sleep(start - now)

    def hook(self, request: httpx.Request) -> None:
        self.wait(request.url.host)


class Robots:
    """robots.txt of each host, read once through the client."""

    def __init__(self, client: httpx.Client, user_agent: str):
        self.client = client
        self.user_agent = user_agent
        self._parsers: dict[str, tuple[urllib.robotparser.RobotFileParser | None, str]] = {}

    def refusal(self, url: str) -> str | None:
        """Why ``url`` must not be fetched, or ``None``."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._parsers:
            self._parsers[origin] = self._read(origin)
        parser, problem = self._parsers[origin]
        if parser is None:
            return problem
        if not parser.can_fetch(self.user_agent, url):
            return f"disallowed by {origin}/robots.txt"
        return None

    def _read(self, origin: str) -> tuple[urllib.robotparser.RobotFileParser | None, str]:
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            r = self.client.get(origin + "/robots.txt")
        except httpx.HTTPError as exc:
            return None, f"{origin}/robots.txt could not be read ({type(exc).__name__}); not fetched from this host"
        if r.status_code in (401, 403):
            return None, f"{origin}/robots.txt answers HTTP {r.status_code}; the host asks not to be crawled"
        if r.status_code >= 500:
            return None, f"{origin}/robots.txt answers HTTP {r.status_code}; not fetched from this host this time"
        if r.status_code >= 400:
            parser.parse([])  # no robots.txt: everything allowed
        else:
            parser.parse(r.text.splitlines())
        return parser, ""


# ---------------------------------------------------------------- downloading


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _content_type(header: str) -> tuple[str, str | None]:
    msg = email.message.Message()
    msg["content-type"] = header or "application/octet-stream"
    return msg.get_content_type(), msg.get_param("charset")  # type: ignore[return-value]


def file_name(url: str, content_type: str, disposition: str = "") -> str:
    """A file name for a download: the one its Content-Disposition header gives,
    else the URL's last path segment, with an ending from the content type when
    it has no known one."""
    given = ""
    if disposition:
        msg = email.message.Message()
        msg["content-disposition"] = disposition
        given = PurePosixPath((msg.get_filename() or "").replace("\\", "/")).name
    segment = given or unquote(PurePosixPath(urlsplit(url).path).name) or "index"
    segment = re.sub(r"[\\/\x00-\x1f]", "_", segment)[:120] or "index"
    if not segment.lower().endswith(_KNOWN_SUFFIXES):
        segment += _SUFFIX_BY_TYPE.get(content_type, "")
    return segment


class Fetcher:
    """Downloads with retries, limits and politeness through one httpx client."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.throttle = Throttle(settings.interval)
        t = settings.timeout
        self.client = httpx.Client(
            headers={"User-Agent": settings.user_agent},
            timeout=httpx.Timeout(t, connect=t, read=t),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            event_hooks={"request": [self._robots_hook, self.throttle.hook]},
            transport=transport,
        )
        self.robots = Robots(self.client, settings.user_agent)
        self._asked = ""

    def close(self) -> None:
        self.client.close()

    def _robots_hook(self, request: httpx.Request) -> None:
        """Every request, redirects included, asks robots.txt of its host first."""
        if request.url.path == "/robots.txt":
            return
        why = self.robots.refusal(str(request.url))
        if why:
            asked = str(request.url) == self._asked
            raise Disallowed(why if asked else f"redirected to {request.url}, which is {why}")

    def download(self, url: str, folder: Path) -> Download:
        """Download ``url`` into ``folder``; raises :class:`FetchError`."""
        s = self.settings
        last = ""
        for attempt in range(s.retries + 1):
            if attempt:
                time.sleep(s.backoff * 2 ** (attempt - 1))
            try:
                return self._once(url, folder)
            except _Transient as exc:
                last = str(exc)
        raise FetchError(f"{last}; gave up after {s.retries + 1} attempt(s)")

    def _once(self, url: str, folder: Path) -> Download:
        s = self.settings
        lim = s.limits
        started = time.monotonic()
        self._asked = url
        try:
            with self.client.stream("GET", url) as r:
                final = str(r.url)
                if r.status_code >= 500 or r.status_code == 429:  # server trouble, or "too many requests"
                    raise _Transient(f"HTTP {r.status_code} from {final}")
                if r.status_code >= 400:
                    raise FetchError(f"HTTP {r.status_code} from {final}")
                ctype, header_charset = _content_type(r.headers.get("content-type", ""))
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > lim.max_file_bytes:
                    raise FetchError(_too_large(lim, f"Content-Length {int(declared):,} bytes"))
                path = folder / file_name(final, ctype, r.headers.get("content-disposition", ""))
                size = 0
                with open(path, "wb") as out:
                    for chunk in r.iter_bytes():  # as the bytes arrive, so the deadline is checked often
                        size += len(chunk)
                        if size > lim.max_file_bytes:
                            raise FetchError(_too_large(lim, f"more than {lim.max_file_bytes:,} bytes"))
                        if time.monotonic() - started > s.total_timeout:
                            raise FetchError(
                                f"download did not finish within {s.total_timeout:g} s (total_timeout); "
                                f"{size:,} bytes received"
                            )
                        out.write(chunk)
                dl = Download(path, final, r.status_code, ctype, size, _now())
        except httpx.TooManyRedirects as exc:
            raise FetchError(f"redirect loop or more than {s.max_redirects} redirects ({exc})") from None
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out after {s.timeout:g} s ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Transient(f"connection failed or dropped ({type(exc).__name__}: {exc})") from None
        _charset(dl, header_charset)
        return dl


class _Transient(Exception):
    pass


class Disallowed(Exception):
    """robots.txt of a host asks not to fetch a URL (or cannot be read)."""


def _too_large(lim: Limits, what: str) -> str:
    return f"{what}, over the limit of {lim.show('max_file_bytes')} (max_file_bytes); not stored — {lim.how_to_raise('max_file_bytes')}"


def _charset(dl: Download, header_charset: str | None) -> None:
    """The encoding of a text download, from its bytes, ``<meta>`` and header."""
    if not (dl.content_type.startswith("text/") or dl.content_type == "application/xhtml+xml"):
        return
    from .read.encoding import decode_bytes, normalize_encoding_name
    from .read.html import sniff_charset

    data = dl.path.read_bytes()
    meta = sniff_charset(data) if dl.content_type != "text/plain" else None
    text, enc = decode_bytes(data, str(dl.path), declared=meta or header_charset)
    dl.text, dl.charset = text, enc
    said = normalize_encoding_name(header_charset)
    if said and said != normalize_encoding_name(enc.replace("-sig", "")):
        dl.charset_note = f"the HTTP header says charset={header_charset}, the bytes are {enc}"


def attachments(html_text: str, base_url: str) -> list[str]:
    """Absolute URLs of the report attachments a page links, in page order."""
    import lxml.html

    try:
        root = lxml.html.fromstring(html_text)
    except (ValueError, lxml.etree.ParserError):
        return []
    found: list[str] = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        path = urlsplit(href).path.lower()
        label = a.text_content() or ""
        if path.endswith(ATTACHMENT_SUFFIXES) or ("附件" in label and not path.endswith((".htm", ".html"))):
            url = urljoin(base_url, href)
            if urlsplit(url).scheme in ("http", "https") and url not in found:
                found.append(url)
    return found


# ---------------------------------------------------------------- the log


def read_log(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [{k: (v or "") for k, v in r.items() if k} for r in csv.DictReader(f)]


def _append_log(path: Path, entry: Entry) -> None:
    """One row appended and flushed to disk: an interrupted run keeps every URL finished so far."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS, lineterminator="\n")
        if new:
            w.writeheader()
        w.writerow(entry.row())
        f.flush()
        os.fsync(f.fileno())


def read_targets(path: str | os.PathLike[str]) -> list[Target]:
    """The URLs of a CSV with a ``url`` column (and optionally agency, year,
    level, province).  Raises ``ValueError`` naming the file and row."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "url" not in (reader.fieldnames or []):
            raise ValueError(f"{path}: no 'url' column (columns: {', '.join(reader.fieldnames or [])})")
        out = []
        for n, r in enumerate(reader, start=2):
            url = (r.get("url") or "").strip()
            if not url:
                continue
            year = (r.get("year") or "").strip()
            if year and not re.fullmatch(r"\d{4}", year):
                raise ValueError(f"{path}: row {n}, column year: {year!r} is not a four-digit year")
            out.append(Target(url, *((r.get(c) or "").strip() for c in URL_COLUMNS[1:])))
    return out


# ---------------------------------------------------------------- running


@dataclass
class Report:
    entries: list[Entry] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(e.outcome == outcome for e in self.entries)

    def already(self) -> int:
        return sum(e.outcome == "skipped" and e.reason.startswith(ALREADY) for e in self.entries)

    def text(self, log: Path) -> str:
        skipped = f"{self.count('skipped')} skipped"
        if self.already():
            skipped += f" ({self.already()} already fetched)"
        return f"fetch: {self.count('fetched')} fetched, {skipped}, {self.count('failed')} failed (log: {log})"


def fetch(
    targets: Iterable[Target],
    settings: Settings,
    detect: Callable[[Path], Any] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Report:
    """Fetch every target into ``settings.raw_dir`` (see the module documentation)."""
    from tqdm import tqdm

    queue = list(targets)
    log = settings.log_path
    done = {
        r["url"]: r for r in read_log(log) if r.get("outcome") == "fetched" or r.get("reason", "").startswith("same bytes")
    }
    report = Report()
    fetcher = Fetcher(settings, transport)
    bar = tqdm(total=len(queue), unit="url", disable=not settings.progress, desc="fetch")
    seen: set[str] = set()
    try:
        with tempfile.TemporaryDirectory(prefix="gidr-fetch-") as tmp:
            i = 0
            while i < len(queue):
                target = queue[i]
                i += 1
                if target.url in seen:
                    entry = Entry(target.url, "skipped", "listed twice in this run", via=target.via)
                else:
                    seen.add(target.url)
                    entry, more = _one(target, settings, fetcher, detect, done, Path(tmp))
                    queue.extend(more)
                    bar.total = len(queue)
                entry.retrieved_at = entry.retrieved_at or _now()
                _append_log(log, entry)
                report.entries.append(entry)
                bar.update(1)
    finally:
        bar.close()
        fetcher.close()
    return report


def _one(
    target: Target,
    settings: Settings,
    fetcher: Fetcher,
    detect: Callable[[Path], Any] | None,
    done: dict[str, dict[str, str]],
    tmp: Path,
) -> tuple[Entry, list[Target]]:
    entry = Entry(target.url, via=target.via)
    if urlsplit(target.url).scheme not in ("http", "https") or not urlsplit(target.url).netloc:
        entry.outcome, entry.reason = "failed", "not an http(s) URL"
        return entry, []
    if target.url in done and not settings.again:
        prev = done[target.url]
        entry.outcome = "skipped"
        entry.reason = f"{ALREADY} at {prev.get('retrieved_at', '')} ({prev.get('file') or prev.get('reason')})"
        entry.file, entry.sha256 = prev.get("file", ""), prev.get("sha256", "")
        return entry, []
    folder = Path(tempfile.mkdtemp(dir=tmp))
    try:
        dl = fetcher.download(target.url, folder)
    except Disallowed as exc:
        entry.outcome, entry.reason = "skipped", str(exc)
        return entry, []
    except FetchError as exc:
        entry.outcome, entry.reason, entry.retrieved_at = "failed", str(exc), _now()
        return entry, []
    entry.final_url, entry.http_status, entry.content_type = dl.final_url, str(dl.status), dl.content_type
    entry.charset, entry.bytes, entry.retrieved_at = dl.charset, str(dl.size), dl.retrieved_at
    given = combine(detect, Given(target.agency or None, target.year or None, None))
    found = given(dl.path) if given is not None else None
    more: list[Target] = []
    if dl.text is not None and "html" in dl.content_type and not _holds_tables(found):
        links = attachments(dl.text, dl.final_url)
        if links:
            more = [Target(u, target.agency, target.year, target.level, target.province, via=target.url) for u in links]
            entry.outcome = "skipped"
            entry.reason = f"the page holds no report tables; it links its report as {len(links)} attachment(s), fetched next"
            return entry, more
    note = f"fetched {dl.retrieved_at} from {target.url}"
    if dl.final_url != target.url:
        note += f" (redirected to {dl.final_url})"
    note += f"; HTTP {dl.status}; {dl.content_type}"
    if target.via:
        note += f"; attachment of the page {target.via}"
    if dl.charset_note:
        note += f"; {dl.charset_note}"
    [out] = add_report(
        settings.raw_dir,
        [dl.path],
        source_url=dl.final_url,
        detect=(lambda _p: found) if given is not None else None,
        limits=settings.limits,
        level=target.level,
        province=target.province,
        note=note,
    )
    entry.sha256 = out.sha256 or ""
    entry.file = out.file or ""
    if out.status == "added":
        entry.outcome = "fetched"
        entry.reason = "; ".join(x for x in (dl.charset_note, *(w for w in out.warnings)) if x)
    elif out.status == "duplicate":
        entry.outcome, entry.reason = "skipped", f"same bytes as {out.file} already in {settings.raw_dir}; not stored twice"
    else:
        entry.outcome, entry.reason = "failed", out.message
    return entry, more


def _holds_tables(found: Any) -> bool:
    return found is not None and getattr(found, "edition", None) not in (None, "")


# ---------------------------------------------------------------- command line


def add_arguments(parser) -> None:
    parser.add_argument("urls", nargs="*", metavar="URL", help="report pages or files to download")
    parser.add_argument("--from", dest="from_csv", metavar="CSV", help="a CSV with a url column (and optionally agency, year, level, province)")
    parser.add_argument("--raw-dir", default="data/raw", help="raw data directory (default: data/raw)")
    parser.add_argument("--log", default=None, help=f"fetch log (default: {LOG_NAME} beside the raw directory)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between requests to one host (default 1)")
    parser.add_argument("--timeout", type=float, default=20.0, help="connect and read timeout in seconds (default 20)")
    parser.add_argument("--total-timeout", type=float, default=300.0, help="longest time for one download in seconds (default 300)")
    parser.add_argument("--retries", type=int, default=3, help="retries on 5xx, timeouts and dropped connections (default 3)")
    parser.add_argument("--backoff", type=float, default=2.0, help="first wait before a retry in seconds, doubled each time (default 2)")
    parser.add_argument("--again", action="store_true", help="fetch URLs the log already records as fetched")
    parser.add_argument("--no-progress", action="store_true")


def run(args, limits: Limits, detect: Callable[[Path], Any] | None = None) -> int:
    """Run ``fetch``; exit status 1 when a URL failed, 2 on bad arguments."""
    import sys

    targets = [Target(u) for u in args.urls]
    if args.from_csv:
        try:
            targets += read_targets(args.from_csv)
        except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
            print(f"python -m helpers fetch: error: {exc}", file=sys.stderr)
            return 2
    if not targets:
        print("python -m helpers fetch: error: give URLs or --from CSV", file=sys.stderr)
        return 2
    settings = Settings(
        raw_dir=Path(args.raw_dir),
        log=Path(args.log) if args.log else None,
        interval=args.interval,
        timeout=args.timeout,
        total_timeout=args.total_timeout,
        retries=args.retries,
        backoff=args.backoff,
        limits=limits,
        again=args.again,
        progress=not args.no_progress,
    )
    report = fetch(targets, settings, detect=detect)
    for e in report.entries:
        if e.outcome == "failed" or (e.outcome == "skipped" and not e.reason.startswith(ALREADY)):
            print(f"{e.outcome}: {e.url}: {e.reason}", file=sys.stderr)
    print(report.text(settings.log_path))
    return 1 if report.count("failed") else 0


__all__: Sequence[str] = (
    "Settings", "Target", "Entry", "Fetcher", "FetchError", "LOG_FIELDS", "USER_AGENT",
    "attachments", "fetch", "file_name", "read_log", "read_targets", "run",
)
