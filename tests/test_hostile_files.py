"""Hostile files: every one is answered with a clear status and message, in
bounded time and bounded memory.

The inputs are generated here (nothing big is committed): a sparse file of
several hundred MB, DOCX zip bombs, an oversized DOCX part, a package of
thousands of members, XML entity expansion and external entities in DOCX and
HTML, a PDF of thousands of pages, a PDF stream that inflates to 100 MB, PDF
pages that draw hundreds of thousands or millions of characters, deeply nested
HTML, a page of hundreds of thousands of tags, a text file with one 50 MB line.

Each case is extracted in a fresh Python process (``_PROBE``) that reports the
result, the wall-clock time of ``extract_path`` and how much its peak resident
memory grew during the call (``ru_maxrss`` of the process and, for the pdfium
child process, of its children).
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import subprocess
import sys
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

import pytest

from helpers.limits import SPECS, Limits

REPO_ROOT = Path(__file__).resolve().parent.parent
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MB = 1024 * 1024

TIME_BUDGET_S = 5.0
MEMORY_BUDGET_MB = 500

# Runs in a fresh interpreter: warm up (imports, label tables), then extract the
# file once and report what came out, how long it took and the memory growth.
_PROBE = r"""
import json, os, resource, sys, time
from helpers.extract import extract_path
from helpers.limits import Limits

path, overrides = sys.argv[1], json.loads(sys.argv[2])
limits = Limits(**overrides) if overrides else None
extract_path(sys.argv[3])  # warm-up: codebook, label regex, readers imported

def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)

# The peak resident size of this process, reset to the current size: ru_maxrss
# would carry the parent's (pytest's) peak over the exec.
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
base_rss = status_kb("VmRSS")
t0 = time.perf_counter()
r = extract_path(path, limits=limits)
elapsed = time.perf_counter() - t0
peak = status_kb("VmHWM")
peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
out = r.to_json()
out["_seconds"] = elapsed
out["_grew_mb"] = max(peak - base_rss, 0) / 1024
# a forked child starts with the parent's resident pages
out["_child_grew_mb"] = max(peak_child - base_rss, 0) / 1024 if peak_child else 0.0
print(json.dumps(out, ensure_ascii=False))
"""

MEASURED: dict[str, dict] = {}


def probe(path: Path, **overrides) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), json.dumps(overrides), str(REPO_ROOT / "data/raw/yindu_office_2024.txt")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    MEASURED[path.name] = {
        "status": out["status"],
        "seconds": round(out["_seconds"], 3),
        "grew_mb": round(out["_grew_mb"], 1),
        "child_grew_mb": round(out["_child_grew_mb"], 1),
        "message": out["issues"][0]["message"] if out["issues"] else "",
    }
    return out


def messages(out: dict) -> str:
    return "\n".join(i["message"] for i in out["issues"])


def check_bounded(out: dict, seconds: float = TIME_BUDGET_S, memory_mb: float = MEMORY_BUDGET_MB) -> None:
    assert out["_seconds"] < seconds, f"took {out['_seconds']:.2f} s"
    assert out["_grew_mb"] < memory_mb, f"peak memory grew by {out['_grew_mb']:.0f} MB"
    assert out["_child_grew_mb"] < memory_mb, f"the pdfium process grew by {out['_child_grew_mb']:.0f} MB"


def check_refused(out: dict, path: Path, limit: str) -> None:
    """Status unsupported; the message names the file, the limit and how to raise it."""
    assert out["status"] == "unsupported", messages(out)
    assert out["cells"] == {}
    msg = out["issues"][0]["message"]
    assert out["issues"][0]["severity"] == "error"
    assert msg.startswith(f"{path}: "), msg
    assert f"({limit})" in msg, msg
    assert SPECS[limit]["flag"] in msg and SPECS[limit]["env"] in msg, msg


# ----------------------------------------------------------------- generators


def docx_package(xml: bytes | None, extra: dict[str, bytes] | None = None, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        if xml is not None:
            zf.writestr("word/document.xml", xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def body(inner: str, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document xmlns:w="{W_NS}"><w:body>{inner}'
            "</w:body></w:document>").encode("utf-8")


def write_streamed_member(zf: zipfile.ZipFile, name: str, head: bytes, filler: bytes, size: int, tail: bytes) -> None:
    """A member of ``size`` bytes written in chunks (never held in memory)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as fh:
        fh.write(head)
        chunk = filler * (MB // len(filler))
        left = size - len(head) - len(tail)
        while left > 0:
            piece = chunk[: min(len(chunk), left)]
            fh.write(piece)
            left -= len(piece)
        fh.write(tail)


def pdf_bytes(content: bytes, filters: bytes = b"") -> bytes:
    """A one-page PDF whose page draws ``content`` (already encoded by ``filters``)."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< " + filters + b"/Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_TO_LETTER = bytes(_LETTERS[i % len(_LETTERS)] for i in range(256))


@lru_cache(maxsize=None)
def text_page_content(n_chars: int, seed: int = 7) -> bytes:
    """Content that draws ``n_chars`` letters that compress poorly (lines of 100)."""
    letters = random.Random(seed).randbytes(n_chars).translate(_TO_LETTER)
    parts = [b"BT /F1 1 Tf 10 10 Td "]
    for k in range(0, n_chars - n_chars % 100, 100):
        parts.append(b"(" + letters[k : k + 100] + b") Tj ")
    parts.append(b"ET")
    return b"".join(parts)


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    return d


# ----------------------------------------------------------------- big files


def test_sparse_file_of_300_mb_refused_before_reading(hostile):
    path = hostile / "huge_2023.pdf"
    with open(path, "wb") as f:
        f.write(b"%PDF-1.7\n")
    os.truncate(path, 300 * MB)  # sparse: no disk cost
    out = probe(path)
    check_refused(out, path, "max_file_bytes")
    assert "314,572,800 bytes" in out["issues"][0]["message"]
    check_bounded(out, seconds=1.0, memory_mb=20)


def test_raised_file_limit_reads_the_file_through_the_cli(hostile):
    """The limit is configurable from the command line: raised, the same kind
    of file is read (and then fails for what it is: no PDF structure)."""
    path = hostile / "big_2023.txt"
    with open(path, "wb") as f:
        f.write("政府信息公开工作年度报告\n".encode())
    os.truncate(path, 1536 * 1024)  # NUL bytes after the first line
    cli = [sys.executable, "-m", "helpers", "extract", str(path)]
    low = subprocess.run([*cli, "--max-file-mb", "1"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert low.returncode == 0, low.stderr
    obj = json.loads(low.stdout)
    assert obj["status"] == "unsupported" and "--max-file-mb" in obj["issues"][0]["message"]
    high = subprocess.run([*cli, "--max-file-mb", "2"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    obj = json.loads(high.stdout)
    assert obj["status"] == "failed", obj["issues"]  # read, and found to be binary
    assert "max_file_bytes" not in obj["issues"][0]["message"]


def test_text_file_with_one_50_mb_line(hostile):
    path = hostile / "oneline_2023.txt"
    with open(path, "wb") as f:
        chunk = "政府信息公开 12 345 ".encode() * 40000
        while f.tell() < 50 * MB:
            f.write(chunk)
    out = probe(path)
    check_refused(out, path, "max_text_chars")
    check_bounded(out, seconds=1.0, memory_mb=20)  # refused before the file is read


def test_long_line_under_the_limit_is_read_in_bounded_time(hostile):
    path = hostile / "longline_2023.txt"
    path.write_bytes("一、本年新收政府信息公开申请数量 12 345 6 ".encode() * 20000)  # 600,000 characters, one line
    out = probe(path)
    assert out["status"] in ("ok", "partial", "failed"), messages(out)
    check_bounded(out)


def test_time_budget_stops_a_slow_file(hostile):
    path = hostile / "slow_2023.txt"
    path.write_bytes("政府信息公开\t12\t34\n".encode() * 60000)  # ~2 s of tokenising
    out = probe(path, max_seconds=0.3)
    check_refused(out, path, "max_seconds")
    check_bounded(out, seconds=1.5)


# ----------------------------------------------------------------- DOCX


def test_docx_zip_bomb(hostile):
    """120 MB of document.xml compressed into a few hundred KB."""
    path = hostile / "bomb_2023.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        write_streamed_member(zf, "word/document.xml", body("<w:p><w:r><w:t>")[:-len("</w:body></w:document>")],
                              b" ", 120 * MB, b"</w:t></w:r></w:p></w:body></w:document>")
    assert path.stat().st_size < 2 * MB
    out = probe(path)
    check_refused(out, path, "max_docx_xml_bytes")
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_docx_zip_bomb_with_lying_sizes(hostile):
    """The same bomb whose headers claim 1 MB uncompressed: the member is read
    with a cap and the lie is caught, never 120 MB decompressed."""
    src = hostile / "bomb_2023.docx"
    if not src.exists():
        test_docx_zip_bomb(hostile)
    data = bytearray(src.read_bytes())
    name = b"word/document.xml"
    patched = 0
    for sig, name_off in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        pos = data.find(sig)
        while pos >= 0:
            if data[pos + name_off: pos + name_off + len(name)] == name:
                # the zip64 extra field holds the real sizes: point the sizes at a lie instead
                size_off = 22 if sig == b"PK\x03\x04" else 24
                struct.pack_into("<I", data, pos + size_off, 1_000_000)
                patched += 1
            pos = data.find(sig, pos + 4)
    assert patched == 2
    path = hostile / "liar_2023.docx"
    path.write_bytes(bytes(data))
    out = probe(path)
    assert out["status"] in ("failed", "unsupported"), messages(out)
    assert messages(out).startswith(f"{path}: ")
    check_bounded(out, seconds=2.0, memory_mb=100)


def test_docx_ratio_bomb_under_the_size_limit(hostile):
    path = hostile / "dense_2023.docx"
    path.write_bytes(docx_package(body("<w:p><w:r><w:t>" + " " * (10 * MB) + "</w:t></w:r></w:p>")))
    out = probe(path)
    check_refused(out, path, "max_zip_ratio")
    assert "zip bomb" in out["issues"][0]["message"]
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_docx_oversized_part(hostile):
    """A stored (uncompressed) main part larger than the configured limit."""
    path = hostile / "oversized_2023.docx"
    para = "<w:p><w:r><w:t>政府信息公开工作年度报告</w:t></w:r></w:p>"
    path.write_bytes(docx_package(body(para * 40000), compression=zipfile.ZIP_STORED))  # ~2.6 MB
    out = probe(path, max_docx_xml_bytes=1 * MB)
    check_refused(out, path, "max_docx_xml_bytes")
    assert "over the limit of 1 MB" in out["issues"][0]["message"]
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_docx_bomb_in_a_part_that_is_never_read(hostile):
    """A 100 MB bomb in word/media: only the main part is read, the rest is never inflated."""
    path = hostile / "media_bomb_2023.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", body("<w:p><w:r><w:t>政府信息公开工作年度报告</w:t></w:r></w:p>"))
        write_streamed_member(zf, "word/media/image1.png", b"\x89PNG", b"\0", 100 * MB, b"")
    out = probe(path)
    assert out["status"] == "failed", messages(out)  # read; no tables in it
    assert any(i["rule"] == "extract.no_tables" for i in out["issues"])
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_docx_with_thousands_of_members(hostile):
    path = hostile / "members_2023.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("word/document.xml", body("<w:p><w:r><w:t>正文</w:t></w:r></w:p>"))
        for i in range(12000):
            zf.writestr(f"customXml/item{i}.xml", b"")
    out = probe(path)
    check_refused(out, path, "max_zip_entries")
    check_bounded(out, seconds=1.0, memory_mb=50)


BILLION_LAUGHS = (
    '<!DOCTYPE w:document [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    + "]>"
)
XXE = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _table_xml(label: str) -> str:
    cells = "".join(f"<w:tc><w:p><w:r><w:t>{t}</w:t></w:r></w:p></w:tc>" for t in (label, "1", "2", "3"))
    return f"<w:tbl><w:tr>{cells}</w:tr></w:tbl>"


def test_docx_billion_laughs_not_expanded(hostile):
    path = hostile / "laughs_2023.docx"
    path.write_bytes(docx_package(body("<w:p><w:r><w:t>政府&lol9;信息</w:t></w:r></w:p>" + _table_xml("&lol9;"),
                                       prolog=BILLION_LAUGHS)))
    out = probe(path)
    assert out["status"] in ("failed", "unsupported"), messages(out)  # nothing of a report in it
    dumped = json.dumps(out, ensure_ascii=False)
    assert "lollol" not in dumped
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_docx_external_entity_not_resolved(hostile):
    path = hostile / "xxe_2023.docx"
    path.write_bytes(docx_package(body("<w:p><w:r><w:t>政府&xxe;信息</w:t></w:r></w:p>" + _table_xml("&xxe;"),
                                       prolog=XXE)))
    out = probe(path)
    assert out["status"] in ("failed", "unsupported"), messages(out)
    dumped = json.dumps(out, ensure_ascii=False)
    assert "root:" not in dumped and "/bin/" not in dumped
    check_bounded(out, seconds=1.0, memory_mb=50)
    # and the document itself holds none of the file either
    from helpers.read.docx import read_docx

    doc = read_docx(str(path), path.read_bytes())
    assert "root:" not in doc.text()


# ----------------------------------------------------------------- HTML


def test_html_billion_laughs_not_expanded(hostile):
    path = hostile / "laughs_2023.html"
    dtd = BILLION_LAUGHS.replace("w:document", "html")
    path.write_text(f"{dtd}<html><body><p>政府&lol9;信息</p><table><tr><td>&lol9;</td><td>1</td></tr></table>"
                    "</body></html>", encoding="utf-8")
    out = probe(path)
    assert out["status"] in ("failed", "unsupported"), messages(out)
    assert "lollol" not in json.dumps(out, ensure_ascii=False)
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_html_external_entity_not_resolved(hostile):
    path = hostile / "xxe_2023.html"
    dtd = XXE.replace("w:document", "html")
    path.write_text(f'<?xml version="1.0"?>{dtd}<html><body><p>&xxe;</p><table><tr><td>&xxe;</td></tr></table>'
                    "</body></html>", encoding="utf-8")
    out = probe(path)
    assert out["status"] in ("failed", "unsupported"), messages(out)
    dumped = json.dumps(out, ensure_ascii=False)
    assert "root:" not in dumped and "/bin/" not in dumped
    from helpers.read.html import read_html

    assert "root:" not in read_html(str(path), path.read_bytes()).text()
    check_bounded(out, seconds=1.0, memory_mb=50)


@pytest.mark.parametrize("tag", ["div", "table"])
def test_deeply_nested_html(hostile, tag):
    path = hostile / f"nested_{tag}_2023.html"
    open_, close = ((b"<div>", b"</div>") if tag == "div" else (b"<table><tr><td>", b"</td></tr></table>"))
    depth = 100_000 if tag == "div" else 30_000  # under the tag limit
    path.write_bytes(b"<html><body>" + open_ * depth + "政府信息公开".encode() + close * depth + b"</body></html>")
    out = probe(path)
    assert out["status"] == "failed", messages(out)  # read up to libxml2's depth limit; no tables
    assert any(i["rule"] == "read.note" and "stopped early" in i["message"] for i in out["issues"]), messages(out)
    check_bounded(out, seconds=2.0, memory_mb=200)


def test_html_with_too_many_tags(hostile):
    path = hostile / "tags_2023.html"
    path.write_bytes(b"<html><body>" + b"<p>1</p>" * 300_000 + b"</body></html>")
    out = probe(path)
    check_refused(out, path, "max_html_nodes")
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_html_over_the_size_limit(hostile):
    path = hostile / "bightml_2023.html"
    path.write_bytes(b"<html><body><p>" + b"x" * (3 * MB) + b"</p></body></html>")
    out = probe(path, max_html_bytes=2 * MB)
    check_refused(out, path, "max_html_bytes")
    check_bounded(out, seconds=1.0, memory_mb=50)


# ----------------------------------------------------------------- PDF


def test_pdf_with_thousands_of_pages(hostile):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(5000):
        pdf.new_page(595, 842)
    path = hostile / "pages_2023.pdf"
    pdf.save(str(path))
    pdf.close()
    out = probe(path)
    check_refused(out, path, "max_pdf_pages")
    assert "5,000 pages" in out["issues"][0]["message"]
    check_bounded(out, seconds=2.0)


def test_pdf_stream_inflating_to_100_mb(hostile):
    """One content stream of 100 MB of spaces, Flate-compressed into ~100 KB:
    refused before pdfium decodes it."""
    comp = zlib.compressobj(9)
    parts = [comp.compress(b" " * MB) for _ in range(100)]
    parts.append(comp.flush())
    path = hostile / "inflate_2023.pdf"
    path.write_bytes(pdf_bytes(b"".join(parts), b"/Filter /FlateDecode "))
    out = probe(path)
    assert out["status"] == "unsupported", messages(out)
    assert "max_pdf_object_bytes" in messages(out) or "max_zip_ratio" in messages(out), messages(out)
    check_bounded(out, seconds=2.0, memory_mb=100)


def test_pdf_object_over_a_lowered_limit(hostile):
    """A stream that compresses normally but decodes past a lowered object limit."""
    content = text_page_content(30_000)  # ~32 KB, compresses ~1.3:1
    path = hostile / "object_2023.pdf"
    path.write_bytes(pdf_bytes(zlib.compress(content), b"/Filter /FlateDecode "))
    out = probe(path, max_pdf_object_bytes=16 * 1024)
    check_refused(out, path, "max_pdf_object_bytes")
    check_bounded(out, seconds=1.0, memory_mb=50)


def test_pdf_page_with_too_many_characters(hostile):
    path = hostile / "pagechars_2023.pdf"
    path.write_bytes(pdf_bytes(zlib.compress(text_page_content(300_000)), b"/Filter /FlateDecode "))
    out = probe(path)
    check_refused(out, path, "max_pdf_page_chars")
    check_bounded(out)


def test_pdf_page_that_makes_pdfium_allocate_gigabytes(hostile):
    """Three million characters on one page (a 4 MB stream that passes the
    stream checks): pdfium would need over 1 GB for its text page; the child
    process runs out of its allowance and the file is refused."""
    path = hostile / "pdfium_memory_2023.pdf"
    path.write_bytes(pdf_bytes(zlib.compress(text_page_content(3_000_000)), b"/Filter /FlateDecode "))
    out = probe(path)
    check_refused(out, path, "max_pdf_memory_bytes")
    check_bounded(out)


def test_pdf_time_budget_kills_the_pdfium_process(hostile):
    path = hostile / "pdfium_slow_2023.pdf"
    path.write_bytes(pdf_bytes(zlib.compress(text_page_content(3_000_000)), b"/Filter /FlateDecode "))
    out = probe(path, max_seconds=0.5, max_pdf_memory_bytes=4096 * MB)
    check_refused(out, path, "max_seconds")
    assert out["_seconds"] < 1.5


# ----------------------------------------------------------------- limits


def test_limits_from_environment_and_defaults(monkeypatch):
    d = Limits()
    assert d.max_file_bytes == 100 * MB and d.max_pdf_pages == 500
    env = {"GIDR_MAX_FILE_MB": "400", "GIDR_MAX_PDF_PAGES": "2000", "GIDR_MAX_SECONDS": "2.5",
           "GIDR_MAX_ZIP_RATIO": "50"}
    lim = Limits.from_env(env)
    assert (lim.max_file_bytes, lim.max_pdf_pages, lim.max_seconds, lim.max_zip_ratio) == (400 * MB, 2000, 2.5, 50.0)
    assert lim.max_text_chars == d.max_text_chars
    for bad in ({"GIDR_MAX_PDF_PAGES": "many"}, {"GIDR_MAX_FILE_MB": "-1"}, {"GIDR_MAX_PDF_PAGES": "1.5"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Limits.from_env(bad)
    with pytest.raises(ValueError):
        Limits(max_pdf_pages=-3)
    # every limit has its variable and its option, and they are distinct
    assert len({s["env"] for s in SPECS.values()}) == len(SPECS) == len({s["flag"] for s in SPECS.values()})


def test_bad_limit_on_the_command_line_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "helpers", "extract", "--max-pdf-pages", "lots", "x.pdf"],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert proc.returncode == 2 and "--max-pdf-pages" in proc.stderr and proc.stdout == ""


def test_measured_bounds_summary():
    """Prints what every case measured (run with -s to see it)."""
    for name, m in sorted(MEASURED.items()):
        print(f"{name:28} {m['status']:12} {m['seconds']:7.3f} s  +{m['grew_mb']:6.1f} MB  "
              f"child +{m['child_grew_mb']:6.1f} MB  {m['message'][:110]}")


# ----------------------------------------------------------------- the pdfium sandbox


def _sleep(s):
    import time

    time.sleep(s)
    return "woke"


def _allocate(mb):
    return len(bytearray(mb * MB))


def _fail():
    raise ValueError("broken")


def test_sandbox_outcomes():
    from helpers.read.sandbox import run_bounded

    ok = run_bounded(_sleep, (0.01,), memory_bytes=64 * MB, seconds=5)
    assert (ok.kind, ok.value) == ("ok", "woke")
    slow = run_bounded(_sleep, (30,), seconds=0.3)
    assert slow.kind == "timeout" and slow.seconds < 2
    big = run_bounded(_allocate, (1024,), memory_bytes=64 * MB, seconds=10)
    assert big.kind == "memory", big
    err = run_bounded(_fail, (), seconds=5)
    assert err.kind == "error" and "ValueError: broken" in err.detail
