"""``python -m helpers fetch`` against an HTTP server on 127.0.0.1 started here.

The server serves the shared original reports (read from ../shared at test time)
with faults: 404, 500 then success, a dropped connection, a redirect chain and a
redirect loop, a response that drips slower than the time allowed, a response over
the size limit, a wrong charset header, a page with its report as an attachment, a
robots.txt that disallows, the same report at two URLs.  No other address is ever
contacted: every connection to a non-loopback host fails the test.
"""

from __future__ import annotations

import csv
import http.server
import socket
import threading
import time
from pathlib import Path

import pytest

from helpers import __main__ as cli
from helpers.fetch import USER_AGENT, Settings, Target, attachments, fetch, file_name, read_log, read_targets
from helpers.limits import Limits
from helpers.sources import load_sources, sha256_file, verify_sources

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Refuse (and record) any connection to a host that is not loopback."""
    outside: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_create = socket.create_connection

    def getaddrinfo(host, *args, **kwargs):
        if str(host) not in LOOPBACK:
            outside.append(str(host))
            raise OSError(f"test guard: {host} is not loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        if str(address[0]) not in LOOPBACK:
            outside.append(str(address[0]))
            raise OSError(f"test guard: {address[0]} is not loopback")
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    yield
    assert outside == [], f"a non-loopback host was contacted: {outside}"


class Site:
    """What the server serves, and what it saw."""

    def __init__(self, originals: Path):
        self.o = originals
        self.hits: list[tuple[float, str, str]] = []  # (time, path, user agent)
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def count(self, path: str) -> int:
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1
            return self.counts[path]

    def requests_for(self, path: str) -> int:
        return sum(1 for _, p, _ in self.hits if p == path)


def _handler(site: Site):
    o = site.o
    files = {
        "/reports/yindu.txt": ("yindu_office_2024.txt", "text/plain; charset=utf-8"),
        "/mirror/yindu-copy.txt": ("yindu_office_2024.txt", "text/plain; charset=utf-8"),
        "/reports/pingtan_2024.html": ("pingtan_2024.html", "text/html; charset=utf-8"),
        "/reports/sh_kewei_2024.md": ("sh_kewei_2024.md", "text/markdown; charset=utf-8"),
        "/files/hongze_2023.pdf": ("hongze_2023.pdf", "application/pdf"),
        "/private/pingtan_2025.txt": ("pingtan_2025.txt", "text/plain; charset=utf-8"),
        "/flaky/pingtan_2022.txt": ("pingtan_2022.txt", "text/plain; charset=utf-8"),
        "/drop/pingtan_2023.txt": ("pingtan_2023.txt", "text/plain; charset=utf-8"),
    }
    redirects = {"/to-private": "/private/pingtan_2025.txt", "/r1": "/r2", "/r2": "/r3", "/r3": "/reports/sh_kewei_2024.md", "/loop-a": "/loop-b", "/loop-b": "/loop-a"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

        def _send(self, status: int, body: bytes, ctype: str, length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - the http.server interface
            path = self.path.split("?")[0]
            with site.lock:
                site.hits.append((time.monotonic(), path, self.headers.get("User-Agent", "")))
            n = site.count(path)
            try:
                if path == "/robots.txt":
                    return self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
                if path.startswith("/flaky/") and n == 1:
                    return self._send(500, b"server error", "text/plain")
                if path.startswith("/drop/") and n == 1:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if path in redirects:
                    self.send_response(302 if path != "/r2" else 301)
                    self.send_header("Location", redirects[path])
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                if path in files:
                    name, ctype = files[path]
                    return self._send(200, (o / name).read_bytes(), ctype)
                if path == "/gbk/yindu.txt":  # GBK bytes announced as ISO-8859-1
                    body = (o / "yindu_office_2024.txt").read_text(encoding="utf-8").encode("gbk")
                    return self._send(200, body, "text/plain; charset=iso-8859-1")
                if path == "/page/nb2023.html":  # a report page that only links its PDF
                    body = (
                        "<html><head><meta charset='utf-8'><title>洪泽区2023年政府信息公开工作年度报告</title></head>"
                        "<body><h1>淮安市洪泽区人民政府2023年政府信息公开工作年度报告</h1>"
                        "<p>附件：<a href='../files/hongze_2023.pdf'>洪泽区2023年报.pdf</a></p>"
                        "<p><a href='/other.html'>其他栏目</a></p></body></html>"
                    ).encode("utf-8")
                    return self._send(200, body, "text/html; charset=utf-8")
                if path == "/big.txt":
                    body = (o / "pingtan_2024.html").read_bytes()
                    return self._send(200, body, "text/plain", length=n % 2 == 1)
                if path == "/drip.txt":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(1000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.05)
                    return None
                return self._send(404, b"not found", "text/plain")
            except (BrokenPipeError, ConnectionResetError, OSError):
                return None

    return Handler


@pytest.fixture
def server(shared_dir: Path):
    site = Site(shared_dir / "corpus" / "originals")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    site.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield site
    httpd.shutdown()
    httpd.server_close()


def _settings(tmp_path: Path, **kw) -> Settings:
    base = dict(
        raw_dir=tmp_path / "data" / "raw", interval=0.001, timeout=0.5, total_timeout=1.0,
        retries=2, backoff=0.001, progress=False,
    )
    base.update(kw)
    return Settings(**base)


def _by_url(report) -> dict[str, object]:
    return {e.url: e for e in report.entries}


def test_fetch_every_fault(tmp_path: Path, server: Site, shared_dir: Path) -> None:
    o = shared_dir / "corpus" / "originals"
    b = server.base
    urls = [
        "/reports/yindu.txt", "/mirror/yindu-copy.txt", "/missing.html", "/flaky/pingtan_2022.txt",
        "/drop/pingtan_2023.txt", "/r1", "/loop-a", "/private/pingtan_2025.txt", "/gbk/yindu.txt",
        "/page/nb2023.html", "/reports/pingtan_2024.html", "/to-private",
    ]
    settings = _settings(tmp_path)
    started = time.monotonic()
    report = fetch([Target(b + u) for u in urls], settings, detect=cli.detect_report)
    assert time.monotonic() - started < 30
    e = _by_url(report)
    # fetched as published, with provenance
    yindu = e[b + "/reports/yindu.txt"]
    assert (yindu.outcome, yindu.http_status, yindu.content_type, yindu.charset) == ("fetched", "200", "text/plain", "utf-8")
    assert (settings.raw_dir / yindu.file).read_bytes() == (o / "yindu_office_2024.txt").read_bytes()
    # the same report at a second URL is not stored twice
    copy = e[b + "/mirror/yindu-copy.txt"]
    assert copy.outcome == "skipped" and copy.reason.startswith(f"same bytes as {yindu.file}")
    # 404: failed, not retried
    assert e[b + "/missing.html"].outcome == "failed" and "HTTP 404" in e[b + "/missing.html"].reason
    assert server.requests_for("/missing.html") == 1
    # 500 then success; a dropped connection then success
    assert e[b + "/flaky/pingtan_2022.txt"].outcome == "fetched" and server.requests_for("/flaky/pingtan_2022.txt") == 2
    assert e[b + "/drop/pingtan_2023.txt"].outcome == "fetched" and server.requests_for("/drop/pingtan_2023.txt") == 2
    # a redirect chain: the final URL is recorded
    r1 = e[b + "/r1"]
    assert (r1.outcome, r1.final_url) == ("fetched", b + "/reports/sh_kewei_2024.md")
    # a redirect loop fails at once
    loop = e[b + "/loop-a"]
    assert loop.outcome == "failed" and "redirect loop" in loop.reason
    # robots.txt disallows /private/: never requested
    private = e[b + "/private/pingtan_2025.txt"]
    assert private.outcome == "skipped" and "disallowed by" in private.reason and "robots.txt" in private.reason
    assert server.requests_for("/private/pingtan_2025.txt") == 0 and server.requests_for("/robots.txt") == 1
    # … and a redirect into a disallowed path is not followed
    hop = e[b + "/to-private"]
    assert hop.outcome == "skipped" and hop.reason.startswith(f"redirected to {b}/private/pingtan_2025.txt, which is disallowed")
    # a wrong charset header: the bytes are stored unchanged and read as what they are
    gbk = e[b + "/gbk/yindu.txt"]
    assert gbk.outcome == "fetched" and gbk.charset == "gb18030"
    assert "charset=iso-8859-1" in gbk.reason
    assert (settings.raw_dir / gbk.file).read_bytes() == (o / "yindu_office_2024.txt").read_text(encoding="utf-8").encode("gbk")
    # the page linking its report as an attachment: the PDF is fetched and says where it came from
    page = e[b + "/page/nb2023.html"]
    assert page.outcome == "skipped" and "1 attachment(s)" in page.reason
    pdf = e[b + "/files/hongze_2023.pdf"]
    assert (pdf.outcome, pdf.via, pdf.content_type) == ("fetched", b + "/page/nb2023.html", "application/pdf")
    assert pdf.sha256 == sha256_file(o / "hongze_2023.pdf")
    # every request named the project and its version
    assert {ua for _, _, ua in server.hits} == {USER_AGENT} and "0.1.0" in USER_AGENT

    rows = {r.file: r for r in load_sources(settings.raw_dir)}
    assert rows[yindu.file].agency == "殷都区人民政府办公室" and rows[yindu.file].year == "2024"
    assert rows[yindu.file].source == b + "/reports/yindu.txt"
    assert rows[gbk.file].agency == "殷都区人民政府办公室"
    assert rows[r1.file].source == b + "/reports/sh_kewei_2024.md" and f"from {b}/r1 (redirected" in rows[r1.file].note
    assert f"attachment of the page {b}/page/nb2023.html" in rows[pdf.file].note
    assert rows[pdf.file].year == "2023" and rows[pdf.file].edition == "2021"
    assert len(rows) == 7 and verify_sources(settings.raw_dir) == []

    log = read_log(settings.log_path)
    assert settings.log_path == tmp_path / "data" / "fetch-log.csv"
    assert len(log) == len(urls) + 1  # every URL asked for, and the attachment
    assert {r["outcome"] for r in log} == {"fetched", "skipped", "failed"}
    assert all(r["retrieved_at"].endswith("+00:00") for r in log)
    assert report.text(settings.log_path).startswith("fetch: 7 fetched, 4 skipped, 2 failed")


def test_slow_and_oversized_responses_are_given_up(tmp_path: Path, server: Site) -> None:
    b = server.base
    settings = _settings(tmp_path, retries=0, limits=Limits(max_file_bytes=50_000))
    started = time.monotonic()
    report = fetch([Target(b + "/drip.txt"), Target(b + "/big.txt"), Target(b + "/big.txt?chunked")], settings)
    assert time.monotonic() - started < 10
    drip, big, chunked = report.entries
    assert drip.outcome == "failed" and "did not finish within 1 s (total_timeout)" in drip.reason
    assert big.outcome == "failed" and "Content-Length 108,909 bytes" in big.reason and "max_file_bytes" in big.reason
    # without Content-Length the body is streamed and stopped at the limit
    assert chunked.outcome == "failed" and "more than 50,000 bytes" in chunked.reason
    assert not settings.raw_dir.exists() or not any(settings.raw_dir.iterdir())


def test_rerun_resumes_and_never_stores_twice(tmp_path: Path, server: Site) -> None:
    b = server.base
    settings = _settings(tmp_path)
    first = fetch([Target(b + "/reports/yindu.txt")], settings, detect=cli.detect_report)
    assert [x.outcome for x in first.entries] == ["fetched"]
    # an interrupted run resumes: what the log records as fetched is not asked for again
    second = fetch([Target(b + "/reports/yindu.txt"), Target(b + "/reports/sh_kewei_2024.md")], settings)
    assert [x.outcome for x in second.entries] == ["skipped", "fetched"]
    assert second.entries[0].reason.startswith("already fetched at ")
    assert second.text(settings.log_path).startswith("fetch: 1 fetched, 1 skipped (1 already fetched), 0 failed")
    assert server.requests_for("/reports/yindu.txt") == 1
    # --again downloads it, finds the same bytes and stores nothing
    again = fetch([Target(b + "/reports/yindu.txt")], Settings(**{**settings.__dict__, "again": True}))
    assert again.entries[0].outcome == "skipped" and "same bytes" in again.entries[0].reason
    assert len(load_sources(settings.raw_dir)) == 2
    assert len(read_log(settings.log_path)) == 4


def test_an_interrupted_run_continues_where_it_stopped(tmp_path: Path, server: Site, monkeypatch) -> None:
    import helpers.fetch as fetch_module

    b = server.base
    targets = [Target(b + "/reports/yindu.txt"), Target(b + "/reports/sh_kewei_2024.md"), Target(b + "/reports/pingtan_2024.html")]
    settings = _settings(tmp_path)
    real = fetch_module.Fetcher.download
    calls = []

    def interrupted(self, url, folder):
        calls.append(url)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, url, folder)

    monkeypatch.setattr(fetch_module.Fetcher, "download", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch(targets, settings)
    assert [r["outcome"] for r in read_log(settings.log_path)] == ["fetched"]
    assert [r.file for r in load_sources(settings.raw_dir)] == ["yindu.txt"]
    monkeypatch.setattr(fetch_module.Fetcher, "download", real)
    rerun = fetch(targets, settings)
    assert [e.outcome for e in rerun.entries] == ["skipped", "fetched", "fetched"]
    assert server.requests_for("/reports/yindu.txt") == 1
    assert sorted(p.name for p in settings.raw_dir.iterdir()) == [
        "pingtan_2024.html", "sh_kewei_2024.md", "sources.csv", "yindu.txt"]
    assert verify_sources(settings.raw_dir) == []


def test_requests_to_one_host_are_spaced_by_the_interval(tmp_path: Path, server: Site) -> None:
    b = server.base
    fetch([Target(b + "/missing-1"), Target(b + "/missing-2"), Target(b + "/missing-3")],
          _settings(tmp_path, interval=0.3))
    times = [t for t, _, _ in server.hits]
    assert len(times) == 4  # robots.txt and three pages
    # arrival times at the server jitter by a few ms; the spacing is set by the client
    assert min(b2 - a for a, b2 in zip(times, times[1:])) >= 0.2
    assert times[-1] - times[0] >= 0.85


def test_cli_fetch_from_csv(tmp_path: Path, server: Site, capsys) -> None:
    b = server.base
    urls = tmp_path / "urls.csv"
    with open(urls, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["url", "agency", "year", "level", "province"])
        w.writerow([b + "/reports/pingtan_2024.html", "平潭综合实验区", "2024", "prefecture-level zone", "福建省"])
        w.writerow([b + "/missing.pdf", "", "", "", ""])
    raw = tmp_path / "raw"
    status = cli.main(["fetch", "--from", str(urls), "--raw-dir", str(raw), "--interval", "0.001",
                       "--backoff", "0.001", "--no-progress"])
    out = capsys.readouterr()
    assert status == 1
    assert out.out.strip() == f"fetch: 1 fetched, 0 skipped, 1 failed (log: {tmp_path / 'fetch-log.csv'})"
    assert f"failed: {b}/missing.pdf: HTTP 404" in out.err
    [row] = load_sources(raw)
    assert (row.agency, row.year, row.level, row.province, row.edition) == (
        "平潭综合实验区", "2024", "prefecture-level zone", "福建省", "2021")
    assert row.file == "pingtan_2024.html"


def test_bad_url_list_names_file_and_row(tmp_path: Path) -> None:
    p = tmp_path / "urls.csv"
    p.write_text("url,year\nhttp://127.0.0.1/a,20x4\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"urls.csv: row 2, column year: '20x4'"):
        read_targets(p)
    p.write_text("link\nhttp://127.0.0.1/a\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no 'url' column"):
        read_targets(p)


def test_attachment_links_and_file_names() -> None:
    html = (
        "<a href='/a/report.PDF'>x</a><a href='b.docx'>y</a><a href='page.html'>附件</a>"
        "<a href='/dl?id=3'>附件：年报</a><a href='mailto:x@y'>附件</a><a href='/a/report.PDF'>dup</a>"
    )
    assert attachments(html, "http://127.0.0.1/nb/index.html") == [
        "http://127.0.0.1/a/report.PDF", "http://127.0.0.1/nb/b.docx", "http://127.0.0.1/dl?id=3",
    ]
    assert file_name("http://127.0.0.1/nb/t20200120_80576.htm", "text/html") == "t20200120_80576.htm"
    assert file_name("http://127.0.0.1/dl?id=3", "application/pdf") == "dl.pdf"
    assert file_name("http://127.0.0.1/", "text/html") == "index.html"
    assert file_name("http://127.0.0.1/dl?id=3", "application/pdf", 'attachment; filename="nb2023.pdf"') == "nb2023.pdf"
    assert file_name("http://127.0.0.1/dl", "application/pdf", "attachment; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.pdf") == "年报.pdf"
    assert file_name("http://127.0.0.1/dl", "", 'attachment; filename="../../etc/x.pdf"') == "x.pdf"
