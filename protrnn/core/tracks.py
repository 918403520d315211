"""Pictures of secondary-structure predictions as plain SVG and HTML text (no plotting library).

:func:`track_svg` draws one protein in rows of :data:`ROW` residues: the sequence (each row
numbered, a tick every 10 residues), the true 8-state track when given (residues with mask 0,
unobserved or not scored, hatched grey), the predicted 8-state track, and the prediction's
confidence, the largest of the 8 probabilities per residue (0-1), as a step chart with lines
at 0, 0.5 and 1. A legend of the states heads the picture.

Palette (:data:`PALETTE`): helices in reds (H alpha dark red, G 3-10 orange, I pi pink),
strands blue (E) and yellow (B, bridge), turn, bend and coil in greys (T dark, S mid, C light).

The output is deterministic (same input, same bytes) and grows linearly with the chain: one path
segment per run of a state, one x position and one chart step per residue (roughly 20-30 bytes a
residue; a 3,000-residue chain gives well under 200 KB). The SVG has no XML declaration, so it can
also be embedded in an HTML page; its one element id (the hatch pattern) is derived from the
content (and an optional ``uid``), so several pictures on one page do not clash.

:func:`index_html` is the page ``protrnn predict`` writes beside the pictures: one row per protein
with its id, length, mean confidence and picture.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from protrnn.core.alphabet import SS8

#: Residues per row of a picture.
ROW = 80
#: Width of one residue (px).
CELL = 12
#: Left margin for the labels (px), right margin, width of a letter of the 11 px font.
LEFT, RIGHT, LETTER = 48, 12, 7
#: Heights (px): header, legend, sequence line, one track, confidence chart, gap between rows.
HEADER, LEGEND, SEQ, TRACK, CHART, GAP = 20, 22, 14, 10, 22, 12
#: DSSP state -> (colour, name).
PALETTE = {
    "H": ("#b2182b", "\u03b1-helix"),
    "G": ("#ef8a62", "3\u2081\u2080-helix"),
    "I": ("#f4a6c6", "\u03c0-helix"),
    "E": ("#2166ac", "strand"),
    "B": ("#e6c300", "bridge"),
    "T": ("#6f6f6f", "turn"),
    "S": ("#a9a9a9", "bend"),
    "C": ("#dcdcdc", "coil"),
}
CONFIDENCE_COLOUR = "#3b6e8f"
FONT = "font-family:monospace;font-size:11px"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def xml_escape(value: object) -> str:
    """Text safe in XML content and attributes (characters XML forbids become U+FFFD)."""
    text = _NOT_XML.sub("\ufffd", str(value))
    return "".join(_ENTITIES.get(c, c) for c in text)


class Rows(NamedTuple):
    """Where the rows of a picture lie: first y, height of one row block, offsets inside it."""

    top: int
    block: int
    true_y: int | None
    pred_y: int
    chart_y: int


def _layout(with_true: bool) -> Rows:
    """Offsets of the lines inside one row block (sequence at 0)."""
    y = SEQ + 2
    true_y = y if with_true else None
    pred_y = y + (TRACK + 2 if with_true else 0)
    chart_y = pred_y + TRACK + 4
    return Rows(HEADER + LEGEND, chart_y + CHART + GAP, true_y, pred_y, chart_y)


def _runs(letters: str, start: int, stop: int) -> Iterator[tuple[str, int, int]]:
    """(letter, first, end) of each run of one letter in ``letters[start:stop]``."""
    i = start
    while i < stop:
        j = i
        while j < stop and letters[j] == letters[i]:
            j += 1
        yield letters[i], i, j
        i = j


def _check(protein_id: str, name: str, letters: str, n: int, allowed: str) -> None:
    """ValueError naming the protein when ``letters`` has another length or a foreign letter."""
    if len(letters) != n:
        raise ValueError(
            f"protein {protein_id!r}: {name} has {len(letters)} letters, the sequence {n}"
        )
    bad = next((i for i, c in enumerate(letters) if c not in allowed), None)
    if bad is not None:
        raise ValueError(
            f"protein {protein_id!r}: {name} letter {letters[bad]!r} at position {bad + 1} "
            f"is not one of {allowed}"
        )


def _confidences(protein_id: str, confidence: Iterable[float], n: int) -> list[float]:
    """The confidences as floats in [0, 1]; ValueError on another length or a value outside."""
    values = [float(c) for c in confidence]
    if len(values) != n:
        raise ValueError(f"protein {protein_id!r}: {len(values)} confidences, sequence length {n}")
    for i, c in enumerate(values):
        if not (math.isfinite(c) and -1e-3 <= c <= 1 + 1e-3):
            raise ValueError(
                f"protein {protein_id!r}: confidence {c!r} at position {i + 1} is not in [0, 1]"
            )
    return [min(max(c, 0.0), 1.0) for c in values]


def _x(i: int) -> int:
    """Left edge of residue ``i`` (0-based) within its row."""
    return LEFT + (i % ROW) * CELL


def _track_paths(
    letters: str, row_top: list[int], offset: int, hidden: Sequence[bool], hatch: str
) -> str:
    """One stroked path per state (and one hatched for ``hidden`` residues) of a track."""
    segments: dict[str, list[str]] = {}
    shown = "".join("?" if h else c for c, h in zip(letters, hidden, strict=True))
    for r, top in enumerate(row_top):
        y = top + offset + TRACK // 2
        for letter, a, b in _runs(shown, r * ROW, min((r + 1) * ROW, len(shown))):
            segments.setdefault(letter, []).append(f"M{_x(a)} {y}h{(b - a) * CELL}")
    paint = {s: colour for s, (colour, _) in PALETTE.items()}
    return "".join(
        f'<path stroke="{paint.get(s, f"url(#{hatch})")}" stroke-width="{TRACK}" '
        f'd="{"".join(segments[s])}"/>'
        for s in [*SS8, "?"]
        if s in segments
    )


def _sequence_rows(sequence: str, row_top: list[int]) -> str:
    """The letters (one x per residue), row numbers and ticks every 10 residues."""
    out, ticks = [], []
    for r, top in enumerate(row_top):
        part = sequence[r * ROW : (r + 1) * ROW]
        xs = " ".join(str(_x(r * ROW + i) + CELL // 2) for i in range(len(part)))
        base = top + SEQ - 3
        out.append(
            f'<text x="{LEFT - 6}" y="{base}" text-anchor="end" fill="#777">{r * ROW + 1}</text>'
            f'<text x="{xs}" y="{base}" text-anchor="middle">{xml_escape(part)}</text>'
        )
        ticks += [f"M{_x(i) + CELL} {top}v2" for i in range(r * ROW + 9, r * ROW + len(part), 10)]
    path = f'<path stroke="#999" d="{"".join(ticks)}"/>' if ticks else ""
    return "".join(out) + path


def _chart(values: list[float], row_top: list[int], offset: int) -> str:
    """The confidence step chart of every row, with lines at 0, 0.5 and 1."""
    area, grid = [], []
    for r, top in enumerate(row_top):
        part = values[r * ROW : (r + 1) * ROW]
        y0, width = top + offset + CHART, len(part) * CELL
        steps = "".join(f"V{y0 - CHART * c:.1f}h{CELL}" for c in part)
        area.append(f"M{LEFT} {y0}{steps}V{y0}Z")
        grid.append(f"M{LEFT} {y0}h{width}M{LEFT} {y0 - CHART}h{width}")
        grid.append(f"M{LEFT} {y0 - CHART // 2}h{width}")
    return (
        f'<path fill="{CONFIDENCE_COLOUR}" fill-opacity="0.55" d="{"".join(area)}"/>'
        f'<path stroke="#bbb" stroke-width="0.5" fill="none" d="{"".join(grid)}"/>'
    )


def _labels(rows: Rows, row_top: list[int]) -> str:
    """The track names at the left of every row."""
    names = [(rows.pred_y, "pred"), (rows.chart_y + CHART // 2 - TRACK // 2, "conf")]
    if rows.true_y is not None:
        names.insert(0, (rows.true_y, "true"))
    return "".join(
        f'<text x="{LEFT - 6}" y="{top + y + TRACK - 1}" text-anchor="end" fill="#555">'
        f"{name}</text>"
        for top in row_top
        for y, name in names
    )


def _legend(with_true: bool, y: int, hatch: str) -> tuple[str, int]:
    """Swatches of the 8 states (and of unobserved residues when the true track is drawn), and
    the x where the legend ends."""
    items = [(f'fill="{colour}"', f"{s} {name}") for s, (colour, name) in PALETTE.items()]
    if with_true:
        items.append((f'fill="url(#{hatch})" stroke="#999" stroke-width="0.5"', "unobserved"))
    out, x = [], LEFT
    for paint, text in items:
        out.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" {paint}/>'
            f'<text x="{x + 14}" y="{y + 9}">{xml_escape(text)}</text>'
        )
        x += 14 + LETTER * len(text) + 10
    return "".join(out), x


def _pattern_id(*parts: object) -> str:
    """An element id unique to the picture's content (pictures may share one HTML page)."""
    digest = hashlib.sha1("\x00".join(map(str, parts)).encode("utf-8", "replace")).hexdigest()
    return f"hatch-{digest[:12]}"


def _hidden(protein_id: str, mask: Sequence[int] | None, true_ss8: str | None, n: int) -> list:
    """Residues the true track hides (mask 0); none without a mask."""
    if mask is None:
        return [False] * n
    if true_ss8 is None:
        raise ValueError(f"protein {protein_id!r}: a mask needs the true track (true_ss8)")
    flags = [int(m) == 0 for m in mask]
    if len(flags) != n:
        raise ValueError(f"protein {protein_id!r}: mask has {len(flags)} values, sequence {n}")
    return flags


def track_svg(
    protein_id: str,
    sequence: str,
    pred_ss8: str,
    confidence: Iterable[float],
    true_ss8: str | None = None,
    mask: Sequence[int] | None = None,
    note: str = "",
    uid: str = "",
) -> str:
    """The picture of one protein (module docstring); ``note`` is added to the header line;
    ``uid`` tells apart the ids of pictures of the same content on one page.

    ValueError naming the protein when the tracks, confidences or mask differ in length from
    the sequence, a track holds a letter outside ``HGIEBTSC`` or a confidence is outside [0, 1].
    """
    n = len(sequence)
    _check(protein_id, "predicted track", pred_ss8, n, SS8)
    if true_ss8 is not None:
        _check(protein_id, "true track", true_ss8, n, SS8)
    values = _confidences(protein_id, confidence, n)
    hidden = _hidden(protein_id, mask, true_ss8, n)
    rows = _layout(true_ss8 is not None)
    row_top = [rows.top + r * rows.block for r in range(max(1, math.ceil(n / ROW)))]
    hatch = _pattern_id(uid, protein_id, sequence, pred_ss8, true_ss8, hidden)
    legend, legend_end = _legend(true_ss8 is not None, HEADER, hatch)
    width = max(LEFT + min(n, ROW) * CELL, legend_end) + RIGHT
    height = row_top[-1] + rows.block
    mean = sum(values) / n if n else float("nan")
    head = f"{protein_id} \u00b7 {n} residues \u00b7 mean confidence {mean:.2f}"
    shown = f"{head} \u00b7 {note}" if note else head
    body = [
        f'<text x="{LEFT}" y="14" style="font-size:13px;font-weight:bold">'
        f"{xml_escape(shown)}</text>",
        legend,
        _sequence_rows(sequence, row_top),
        _labels(rows, row_top),
    ]
    if true_ss8 is not None:
        body.append(_track_paths(true_ss8, row_top, rows.true_y or 0, hidden, hatch))
    body.append(_track_paths(pred_ss8, row_top, rows.pred_y, [False] * n, hatch))
    body.append(_chart(values, row_top, rows.chart_y))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto;{FONT}" '
        f'role="img"><title>{xml_escape(head)}</title>'
        f'<defs><pattern id="{hatch}" width="4" height="4" patternUnits="userSpaceOnUse">'
        f'<rect width="4" height="4" fill="#fff"/><path d="M0 4L4 0" stroke="#999"/></pattern>'
        f'</defs><rect width="{width}" height="{height}" fill="#fff"/>' + "".join(body) + "</svg>\n"
    )


INDEX_STYLE = (
    "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;"
    "max-width:1100px;padding:0 1em;color:#222}table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#eef1f5}td.num{text-align:right}img{max-width:100%}"
)


class IndexRow(NamedTuple):
    """One protein of :func:`index_html`: its id, length, mean confidence and picture file."""

    protein_id: str
    length: int
    mean_confidence: float
    picture: str


def index_html(title: str, rows: Sequence[IndexRow], intro: str = "") -> str:
    """A page listing proteins with their pictures (relative links; ``intro`` is plain text)."""
    cells = "".join(
        f"<tr><td>{xml_escape(r.protein_id)}</td><td class=num>{r.length:,}</td>"
        f"<td class=num>{r.mean_confidence:.3f}</td>"
        f'<td><a href="{xml_escape(r.picture)}"><img src="{xml_escape(r.picture)}" '
        f'alt="{xml_escape(r.protein_id)}" loading="lazy"></a></td></tr>'
        for r in rows
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{xml_escape(title)}</title><style>{INDEX_STYLE}</style></head><body>"
        f"<h1>{xml_escape(title)}</h1><p>{xml_escape(intro)}</p>"
        f"<table><tr><th>id</th><th>length</th><th>mean confidence</th><th>picture</th></tr>"
        f"{cells}</table></body></html>\n"
    )
