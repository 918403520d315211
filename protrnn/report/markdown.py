"""The markdown of benchmark outputs and studies as HTML: tables, paragraphs, bullets, fenced code
and inline ``code`` / ``**bold**``. Everything is escaped first; image lines are left out (a study's
figures are embedded from its directory)."""

from __future__ import annotations

import re

from protrnn.report.common import escape as e
from protrnn.report.common import wide

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_IMAGE = re.compile(r"^!\[[^\]]*\]\([^)]*\)$")


def inline_html(text: str) -> str:
    """Escaped text with ``code`` and **bold** spans."""
    return _BOLD.sub(r"<b>\1</b>", _CODE.sub(r"<code>\1</code>", e(text)))


def _table_html(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{inline_html(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    return wide(f"<table><tr>{head}</tr>{body}</table>")


def _cells(line: str) -> list[str] | None:
    """A table row's cells, or None for the separator row."""
    cells = [c.strip() for c in line.strip("|").split("|")]
    return None if all(set(c) <= set("-:") for c in cells) else cells


def markdown_html(text: str) -> str:
    """Markdown tables, paragraphs (consecutive lines joined), bullets and fenced code as HTML."""
    parts: list[str] = []
    rows: list[list[str]] = []
    para: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if rows:
            parts.append(_table_html(rows))
            rows.clear()
        if para:
            parts.append(f"<p>{inline_html(' '.join(para))}</p>")
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if code is not None:
            if line.startswith("```"):
                parts.append(f"<pre><code>{e(chr(10).join(code))}</code></pre>")
                code = None
            else:
                code.append(raw)
        elif line.startswith("```"):
            flush()
            code = []
        elif line.startswith("|"):
            if para:
                flush()
            cells = _cells(line)
            if cells is not None:
                rows.append(cells)
        elif line.startswith(("- ", "* ")) or line.startswith("#") or not line:
            flush()
            if line.startswith(("- ", "* ")):
                para.append(line[2:])
            elif line:
                parts.append(f"<p><b>{inline_html(line.lstrip('#').strip())}</b></p>")
        elif _IMAGE.match(line):
            flush()
        else:
            if rows:
                flush()
            para.append(line)
    if code is not None:
        parts.append(f"<pre><code>{e(chr(10).join(code))}</code></pre>")
    flush()
    return "".join(parts)
