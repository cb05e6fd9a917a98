"""HTML like the CMS pages of the corpus: a Word-exported article with `rowspan`/`colspan` tables.

Cells carry Word's inline styles and ``<p><span>`` wrappers, blank cells an
``&nbsp;``, line breaks inside a cell become separate ``<p>`` paragraphs.
The page says it is synthetic in its ``<title>``, a ``<meta>`` and its first
lines.
"""

from __future__ import annotations

from html import escape

from .model import Block, Table

_TD = ('<td width="{w}" valign="center"{span} style="width:{pt:.4f}pt;padding:3.7500pt 3.7500pt 3.7500pt 3.7500pt ;'
       'border:1.0000pt outset windowtext;">{body}</td>')
_P = ('<p class="p" align="{align}" style="margin-top:1.5000pt;text-align:{align};line-height:21.0000pt;">'
      '<span style="font-family:仿宋_GB2312;color:rgb(51,51,51);font-size:{size}pt;">{text}</span></p>')


def _cell(cell, width: float) -> str:
    span = ""
    if cell.rowspan > 1:
        span += f' rowspan="{cell.rowspan}"'
    if cell.colspan > 1:
        span += f' colspan="{cell.colspan}"'
    lines = cell.text.split("\n") if cell.text else [""]
    align = "center" if (cell.header or cell.key) else "justify"
    size = "10.5000" if cell.key or cell.header else "10.5000"
    body = "".join(_P.format(align=align, size=size, text=escape(t) if t else "&nbsp;") for t in lines)
    return _TD.format(w=int(width * 50), pt=width * 37.5, span=span, body=body)


def _table(t: Table) -> str:
    parts = ['<table border="1" cellspacing="0" style="border-collapse:collapse;border:none;"><tbody>']
    for row in t.rows:
        parts.append("<tr>")
        col = 0
        for cell in row:
            w = sum(t.widths[col : col + cell.colspan]) if t.widths else cell.colspan
            parts.append(_cell(cell, w))
            col += cell.colspan
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def render_html(blocks: list[Block], title: str, note: str) -> bytes:
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Table):
            body.append(_table(b))
        elif b.kind == "title":
            body.append(f'<h1 class="article-title" style="text-align:center;">{escape(b.text)}</h1>')
        elif b.kind == "note":
            body.append(f'<p class="article-note" style="text-align:center;">{escape(b.text)}</p>')
        elif b.kind == "heading":
            body.append(f'<p class="MsoNormal" style="text-indent:32pt;"><b><span style="font-family:黑体;">{escape(b.text)}</span></b></p>')
        else:
            body.append(f'<p class="MsoNormal" style="text-indent:32pt;line-height:28pt;"><span style="font-family:仿宋_GB2312;">{escape(b.text)}</span></p>')
    page = (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        '<meta charset="utf-8" />\n'
        f'<meta name="ArticleTitle" content="{escape(title)}" />\n'
        f'<meta name="description" content="{escape(note)}" />\n'
        f"<title>{escape(title)}{escape(note)}</title>\n"
        "</head>\n<body>\n"
        '<div class="header"><a href="#">首页</a> &gt; <a href="#">政府信息公开</a> &gt; <a href="#">政府信息公开年报</a></div>\n'
        '<div class="article">\n' + "\n".join(body) + "\n</div>\n"
        '<div class="footer">合成测试网站 版权所有（合成测试数据）</div>\n'
        "</body>\n</html>\n"
    )
    return page.encode("utf-8")
