"""Pictures of predictions (protrnn.core.tracks): valid, deterministic, escaped, small SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from protrnn.core.alphabet import SS8
from protrnn.core.tracks import CELL, CHART, PALETTE, ROW, TRACK, IndexRow, index_html, track_svg

NS = {"svg": "http://www.w3.org/2000/svg"}
SEQ = "MKVLAAGIWWHEDCRSTPQNY" * 5  # 105 residues: two rows
PRED = ("HHHHHHHGGGIIIEEEEEBTTSSCCCC" * 4)[: len(SEQ)]
TRUE = ("HHHHHHHHHHCCCEEEEEEBTSSCCCC" * 4)[: len(SEQ)]
CONF = [round(0.3 + 0.7 * ((i * 37) % 100) / 100, 3) for i in range(len(SEQ))]


def _root(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def _covered(root: ET.Element, stroke: str) -> list[tuple[int, int, int]]:
    """(x, y, width) of every segment of the stroked paths painted ``stroke``."""
    out = []
    for path in root.iterfind("svg:path", NS):
        if path.get("stroke") == stroke and path.get("stroke-width") == str(TRACK):
            for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)", path.get("d", "")):
                out.append((int(x), int(y), int(w)))
    return out


def _residues(segments: list[tuple[int, int, int]]) -> int:
    return sum(w for _, _, w in segments) // CELL


def test_svg_is_valid_xml_with_sequence_tracks_and_legend() -> None:
    svg = track_svg("P1", SEQ, PRED, CONF, TRUE, [1] * len(SEQ))
    root = _root(svg)
    texts = [t.text or "" for t in root.iterfind("svg:text", NS)]
    # the sequence in rows of ROW letters, each row numbered
    assert "".join(t for t in texts if set(t) <= set(SEQ) and len(t) > 10) == SEQ
    assert SEQ[:ROW] in texts and SEQ[ROW:] in texts
    assert "1" in texts and str(ROW + 1) in texts
    for state, (_, name) in PALETTE.items():
        assert f"{state} {name}" in texts
    # per state: true and predicted tracks together cover exactly its residues
    for state, (colour, _) in PALETTE.items():
        n = _residues(_covered(root, colour))
        assert n == PRED.count(state) + TRUE.count(state), state
    assert {"true", "pred", "conf"} <= set(texts)


def test_prediction_only_has_no_true_track() -> None:
    root = _root(track_svg("P1", SEQ, PRED, CONF))
    texts = [t.text for t in root.iterfind("svg:text", NS)]
    assert "true" not in texts and "unobserved" not in texts and "pred" in texts
    for state, (colour, _) in PALETTE.items():
        assert _residues(_covered(root, colour)) == PRED.count(state)


def test_confidence_chart_steps_follow_the_values() -> None:
    svg = track_svg("P1", SEQ, PRED, CONF)
    area = next(p for p in _root(svg).iterfind("svg:path", NS) if p.get("fill-opacity"))
    rows = area.get("d").split("Z")[:-1]
    assert len(rows) == 2
    base = int(re.match(r"M\d+ (\d+)", rows[0]).group(1))
    heights = [base - float(v) for v in re.findall(r"V([\d.]+)h", rows[0])]
    assert len(heights) == ROW
    assert np.allclose(heights, CHART * np.array(CONF[:ROW]), atol=0.051)


def test_mask_zero_residues_are_hatched() -> None:
    mask = [0 if 10 <= i < 25 or i >= 100 else 1 for i in range(len(SEQ))]
    svg = track_svg("P1", SEQ, PRED, CONF, TRUE, mask)
    root = _root(svg)
    pattern = root.find("svg:defs/svg:pattern", NS)
    hatched = _covered(root, f"url(#{pattern.get('id')})")
    assert _residues(hatched) == mask.count(0)
    assert sorted(x for x, _, _ in hatched) == sorted([48 + 10 * CELL, 48 + 20 * CELL])
    # the hatched residues are no longer drawn in their true colour
    shown = sum(_residues(_covered(root, c)) for c, _ in PALETTE.values())
    assert shown == 2 * len(SEQ) - mask.count(0)
    assert "unobserved" in [t.text for t in root.iterfind("svg:text", NS)]
    assert svg != track_svg("P1", SEQ, PRED, CONF, TRUE, [1] * len(SEQ))


def test_deterministic_and_ids_unique_per_content() -> None:
    args = ("P1", SEQ, PRED, CONF, TRUE, [1] * len(SEQ))
    assert track_svg(*args) == track_svg(*args)
    assert track_svg(*args).encode() == track_svg(*args).encode()
    ids = {re.search(r'pattern id="([^"]+)"', track_svg(p, SEQ, PRED, CONF)).group(1)
           for p in ("P1", "P2")}  # fmt: skip
    assert len(ids) == 2
    same = {re.search(r'pattern id="([^"]+)"', track_svg(*args, uid=u)).group(1) for u in "ab"}
    assert len(same) == 2


def test_ids_are_escaped_for_xml() -> None:
    pid = "sp|Q1|<b>&\"x'\x01"
    svg = track_svg(pid, SEQ, PRED, CONF, note="<i>Q8</i> & more")
    root = _root(svg)
    assert root.find("svg:title", NS).text.startswith("sp|Q1|<b>&\"x'\ufffd \u00b7 105 residues")
    assert "<b>" not in svg and "<i>" not in svg and "\x01" not in svg
    assert "&lt;i&gt;Q8&lt;/i&gt; &amp; more" in svg


def test_long_chain_stays_small() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    seq = "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), n))
    # worst case for the tracks: the state changes at every residue
    pred = "".join(SS8[i % 8] for i in range(n))
    true = "".join(SS8[(i * 3) % 8] for i in range(n))
    mask = (rng.random(n) < 0.5).astype(int).tolist()
    svg = track_svg("long", seq, pred, rng.random(n).tolist(), true, mask)
    root = _root(svg)
    assert len(svg.encode()) < 300_000
    rows = [t.text or "" for t in root.iterfind("svg:text", NS) if " " in t.get("x", "")]
    assert len(rows) == -(-n // ROW) and "".join(rows) == seq
    assert int(root.get("width")) <= 48 + ROW * CELL + 12


def test_index_page_links_every_picture_and_escapes() -> None:
    rows = [IndexRow("a<b>", 105, 0.8125, "svg/a_b_.svg"), IndexRow("q1", 2000, 0.5, "svg/q1.svg")]
    page = index_html("protrnn predictions", rows, "2 proteins & more")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<img src="svg/') == 2 and 'href="svg/q1.svg"' in page
    assert "a&lt;b&gt;" in page and "<b>" not in page and "2 proteins &amp; more" in page
    assert "0.812" in page and "2,000" in page
