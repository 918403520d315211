"""The report section of predictions along the chain: per experiment and per-residue test set,
the best, median and worst protein by Q8 of the best model (:mod:`protrnn.report.tracks`), each
an inline SVG (:func:`protrnn.core.tracks.track_svg`) with its sequence, true and predicted
8-state tracks and the confidence."""

from __future__ import annotations

from protrnn.core.tracks import track_svg
from protrnn.report.common import escape as e
from protrnn.report.context import ReportContext
from protrnn.report.html import Section, caption
from protrnn.report.tracks import TrackProtein, TrackSet

TRACKS_CAPTION = caption(
    "Per test set, three proteins of the model with the highest Q8 on it: the best, the median "
    "and the worst by per-protein Q8 (over its scored residues; ties go to the protein with more "
    "scored residues). Each picture shows the sequence in rows of 80 residues, the true 8-state "
    "track (DSSP; residues with mask 0, unobserved or not scored, hatched), the predicted track "
    "and the confidence, the largest of the 8 predicted probabilities per residue (lines at 0, "
    "0.5 and 1). Colours: helices in reds (H &alpha;-helix dark red, G 3<sub>10</sub> orange, "
    "I &pi; pink), strand E blue, bridge B yellow, turn T, bend S and coil C in greys from dark "
    "to light."
)


def _picture(protein: TrackProtein, tracks: TrackSet) -> str:
    """The inline SVG of one drawn protein of ``tracks``, with its caption."""
    note = f"{protein.rank} by Q8: {100 * protein.q8:.1f} % of {protein.n_scored:,} scored"
    svg = track_svg(
        protein.protein_id,
        protein.sequence,
        protein.pred_ss8,
        protein.confidence.tolist(),
        protein.true_ss8,
        protein.mask.tolist() if protein.true_ss8 is not None else None,
        note=note,
        uid=f"{tracks.experiment}/{tracks.test_set}/{protein.rank}",
    )
    words = (
        f"{protein.rank.capitalize()} by Q8 on {e(tracks.test_set)}: {e(protein.protein_id)} "
        f"({100 * protein.q8:.1f} % of {protein.n_scored:,} scored residues)."
    )
    if protein.true_ss8 is None:
        words += " The dataset has no 8-state labels for it: only the prediction is drawn."
    return f"<figure>{svg}<figcaption>{words}</figcaption></figure>"


def _test_set_html(tracks: TrackSet, several: bool) -> str:
    """Heading, caption and pictures of one test set."""
    where = f" (experiment {e(tracks.experiment)})" if several else ""
    if not tracks.proteins:
        return f"<h3>{e(tracks.test_set)}{where}</h3>" + caption(
            f"Model {e(tracks.model)}: no protein with a scored residue."
        )
    words = caption(
        f"Model {e(tracks.model)}, the highest Q8 on {e(tracks.test_set)}{where}; the proteins "
        f"are ranked among its {tracks.n_ranked:,} proteins with scored residues (labels from "
        f"dataset {e(tracks.dataset)})."
    )
    pictures = "".join(_picture(p, tracks) for p in tracks.proteins)
    return f"<h3>{e(tracks.test_set)}{where}</h3>{words}{pictures}"


def tracks_section(ctx: ReportContext) -> Section | None:
    """Predictions along the chain (None without the dataset tables or per-residue results)."""
    if not ctx.tracks:
        return None
    several = len({t.experiment for t in ctx.tracks}) > 1
    parts = [_test_set_html(t, several) for t in ctx.tracks]
    return Section("tracks", "Predictions along the chain", TRACKS_CAPTION + "".join(parts))
