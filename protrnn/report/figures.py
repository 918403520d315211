"""The report's figures, each drawn from a table and saved as ``figures/*.png``: per-class F1,
confusion heatmaps, accuracy by length, reliability diagrams, learning curves, and their
per-protein counterparts (location F1 and confusion)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from protrnn.report.common import OWN_SOURCE, by_test_set, int_or_none, pct, row_normalized  # noqa: E402
from protrnn.report.common import save_figure as save  # noqa: E402
from protrnn.report.load import HISTORY_METRICS  # noqa: E402


def _confusion_heatmap(
    ax: plt.Axes, matrix: np.ndarray, columns: list[str], rows: list[str], size: int
) -> None:
    """Row-normalised confusion counts as a % heatmap with annotated cells."""
    sns.heatmap(
        100 * row_normalized(matrix),
        annot=True,
        fmt=".0f",
        cmap="Blues",
        vmin=0,
        vmax=100,
        cbar=False,
        square=True,
        xticklabels=columns,
        yticklabels=rows,
        ax=ax,
        annot_kws={"size": size},
    )


def _legend_outside(ax: plt.Axes) -> None:
    """Move the axis' legend (if any) right of the plot."""
    if ax.get_legend() is not None:
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), title="model")


# ----------------------------------------------------------------------------- per residue


def plot_per_class_f1(table: pd.DataFrame, test_set: str, path: Path) -> Path:
    """Grouped bars of per-class F1 (8 and 3 states), one colour per model."""
    data = by_test_set(table, test_set)
    n_models = data["model"].nunique()
    fig, axes = plt.subplots(
        1,
        2,
        figsize=(4 + 1.2 * max(n_models, 2) + 4, 3.8),
        gridspec_kw={"width_ratios": [8, 3]},
        sharey=True,
    )
    for ax, head in zip(axes, ("ss8", "ss3"), strict=True):
        sub = data[data["head"] == head]
        sns.barplot(data=sub, x="class", y="f1", hue="model", ax=ax, legend=head == "ss3")
        ax.set_title(f"{head.upper()} per-class F1")
        ax.set_xlabel("DSSP class" if head == "ss8" else "3-state class")
        ax.set_ylabel("F1")
        ax.set_ylim(0, 1)
    _legend_outside(axes[1])
    fig.suptitle(f"Per-class F1 on {test_set}")
    return save(fig, path)


def plot_confusions(evals: list[dict], test_set: str, path: Path) -> Path:
    """Row-normalised 8-state confusion heatmaps, one panel per model, for one test set."""
    items = [e for e in evals if e["test_set"] == test_set]
    n = len(items)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 4.0 * rows), squeeze=False)
    for ax, e in zip(axes.flat, items, strict=False):
        classes = list(e.get("classes_ss8", "HGIEBTSC"))
        _confusion_heatmap(ax, np.asarray(e["confusion_ss8"]), classes, classes, 8)
        ax.set_title(f"{e['model']} (Q8 {pct(e['q8']):.1f}%)", fontsize=10)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true (DSSP)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{test_set}: 8-state confusion, % of each true class")
    fig.tight_layout()
    return save(fig, path)


def plot_learning_curves(
    histories: dict[str, pd.DataFrame], path: Path, task: str = "per_residue"
) -> Path:
    """Loss (train solid, validation dashed) and validation metrics against epoch per model."""
    (first, first_title), (second, second_title) = HISTORY_METRICS[task]
    frames = [h.assign(model=name) for name, h in histories.items()]
    data = pd.concat(frames, ignore_index=True)
    loss = data.melt(
        id_vars=["model", "epoch"],
        value_vars=["train_loss", "valid_loss"],
        var_name="split",
        value_name="loss",
    )
    loss["split"] = loss["split"].str.replace("_loss", "", regex=False)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    sns.lineplot(
        data=loss, x="epoch", y="loss", hue="model", style="split", ax=axes[0], legend=False
    )
    axes[0].set_title("loss (solid: train, dashed: validation)")
    for ax, col, title in ((axes[1], first, first_title), (axes[2], second, second_title)):
        sns.lineplot(
            data=data, x="epoch", y=col, hue="model", marker="o", ax=ax, legend=col == second
        )
        ax.set_title(title)
        ax.set_ylabel(f"{title} (%)")
    for ax in axes:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    _legend_outside(axes[2])
    fig.tight_layout()
    return save(fig, path)


def _errorbar_series(ax: plt.Axes, sub: pd.DataFrame, key: str, x: np.ndarray, **style) -> None:
    """One model's ``key`` values with their 95% CI columns as error bars."""
    y = sub[key].to_numpy(float)
    err = np.vstack(
        [y - sub[f"{key}_ci_low"].to_numpy(float), sub[f"{key}_ci_high"].to_numpy(float) - y]
    )
    err = np.where(np.isnan(err), 0.0, err)
    ax.errorbar(x, y, yerr=err, fmt="o-", capsize=3, markersize=4, **style)


def plot_length_bins(table: pd.DataFrame, test_set: str, path: Path) -> Path:
    """Q8 and Q3 per sequence-length bin with 95% CI bars, one series per model."""
    data = by_test_set(table, test_set)
    bins = list(dict.fromkeys(data["bin"]))
    models = list(dict.fromkeys(data["model"]))
    counts = data.drop_duplicates("bin").set_index("bin")["n_proteins"]
    labels = [f"{b}\n({int_or_none(counts.get(b)) or 0} prot.)" for b in bins]
    x = np.arange(len(bins))
    width = 0.8 / max(len(models), 1)
    colors = sns.color_palette(n_colors=max(len(models), 1))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=False)
    for ax, key in zip(axes, ("q8", "q3"), strict=True):
        for k, model in enumerate(models):
            sub = data[data["model"] == model].set_index("bin").reindex(bins)
            offset = x + (k - (len(models) - 1) / 2) * width
            _errorbar_series(ax, sub, key, offset, color=colors[k], label=model)
        ax.set_xticks(x, labels)
        ax.set_xlabel("sequence length (residues)")
        ax.set_ylabel(f"{key.upper()} (%)")
        ax.set_title(f"{key.upper()} by sequence length")
        ax.grid(axis="y", alpha=0.3)
    axes[1].legend(title="model", loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"Accuracy by sequence length on {test_set}")
    fig.tight_layout()
    return save(fig, path)


def plot_calibration(table: pd.DataFrame, evals: list[dict], test_set: str, path: Path) -> Path:
    """Reliability diagrams (8- and 3-state heads): accuracy against mean confidence per bin."""
    data = table[(table["test_set"] == test_set) & (table["n"] > 0)]
    ece = {
        (e["model"], h): pct(e.get(f"ece_{h}"))
        for e in evals
        if e["test_set"] == test_set
        for h in ("ss8", "ss3")
    }
    models = list(dict.fromkeys(data["model"]))
    colors = sns.color_palette(n_colors=max(len(models), 1))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, head in zip(axes, ("ss8", "ss3"), strict=True):
        ax.plot([0, 1], [0, 1], ls="--", color="#888", lw=1, label="perfect calibration")
        for k, model in enumerate(models):
            sub = data[(data["model"] == model) & (data["head"] == head)]
            ax.plot(
                sub["confidence"],
                sub["accuracy"],
                "o-",
                color=colors[k],
                markersize=4,
                label=f"{model} (ECE {ece.get((model, head), np.nan):.1f}%)",
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("mean top-label confidence in bin")
        ax.set_ylabel("accuracy in bin")
        ax.set_title("8-state head" if head == "ss8" else "3-state head")
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Reliability diagrams on {test_set}")
    fig.tight_layout()
    return save(fig, path)


# ----------------------------------------------------------------------------- per protein


def plot_protein_confusions(evals: list[dict], test_set: str, path: Path) -> Path:
    """Row-normalised location confusion heatmaps (% of each true class), one per model."""
    items = [e for e in evals if e["test_set"] == test_set]
    n = max(len(items), 1)
    cols = min(n, 2)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.4 * cols, 5.8 * rows), squeeze=False)
    for ax, e in zip(axes.flat, items, strict=False):
        classes = list(e["classes"])
        cm = np.asarray(e["confusion"], dtype=np.int64)
        support = cm.sum(axis=1)
        labels = [f"{c} ({s})" for c, s in zip(classes, support, strict=True)]
        _confusion_heatmap(ax, cm, classes, labels, 7)
        ax.set_title(f"{e['model']} (accuracy {pct(e['accuracy']):.1f}%)", fontsize=10)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true location (proteins)")
        ax.tick_params(axis="x", labelrotation=60, labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[len(items) :]:
        ax.set_visible(False)
    fig.suptitle(f"{test_set}: location confusion, % of each true class")
    fig.tight_layout()
    return save(fig, path)


def plot_protein_per_class_f1(per_class: pd.DataFrame, test_set: str, path: Path) -> Path:
    """Grouped bars of per-location F1, one colour per model."""
    data = per_class[(per_class["test_set"] == test_set) & (per_class["head"] == "location")]
    n_classes = max(data["class"].nunique(), 1)
    fig, ax = plt.subplots(figsize=(2.5 + 0.9 * n_classes, 4.0))
    sns.barplot(data=data, x="class", y="f1", hue="model", ax=ax)
    ax.set_ylim(0, 1)
    ax.set_xlabel("location")
    ax.set_ylabel("F1")
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    _legend_outside(ax)
    ax.set_title(f"Per-location F1 on {test_set}")
    return save(fig, path)


# ----------------------------------------------------------------------------- summary


def _summary_rows(table: pd.DataFrame) -> list[tuple[str, pd.Series | None]]:
    """Top to bottom: per test set a header row, then its rows in table order."""
    rows: list[tuple[str, pd.Series | None]] = []
    for test_set, group in table.groupby("test_set", sort=False):
        rows.append((str(test_set), None))
        rows += [(str(r["model"]), r) for _, r in group.iterrows()]
    return rows


def _summary_panel(
    ax: plt.Axes, rows: list, column: str, label: str, colors: dict[str, tuple]
) -> None:
    """One score: a point with its 95% CI per row; published rows as open diamonds."""
    for y, (_, r) in enumerate(rows):
        if r is None or np.isnan(float(r[column])):
            continue
        value = float(r[column])
        if r["source"] == OWN_SOURCE:
            low, high = float(r[f"{column}_ci_low"]), float(r[f"{column}_ci_high"])
            err = None if np.isnan(low) else [[value - low], [high - value]]
            ax.errorbar(value, y, xerr=err, fmt="o", color=colors[r["model"]], capsize=3)
        else:
            ax.plot(value, y, "D", mfc="white", mec="#333", mew=1.5, markersize=6)
    ax.set_xlabel(f"{label} (%)")
    ax.set_title(label)
    ax.grid(axis="x", alpha=0.3)


def _label(name: str, row: pd.Series | None) -> str:
    published = row is not None and row["source"] != OWN_SOURCE
    return f"{name} ({row['source']})" if published else name


def plot_summary(
    table: pd.DataFrame, shown: tuple[tuple[str, str], ...], title: str, path: Path
) -> Path:
    """Each model's headline scores per test set with 95% CIs (accuracy.tsv or
    protein_accuracy.tsv rows); published rows marked as open diamonds and italic labels."""
    rows = _summary_rows(table)
    own = list(dict.fromkeys(table.loc[table["source"] == OWN_SOURCE, "model"]))
    colors = dict(zip(own, sns.color_palette(n_colors=max(len(own), 1)), strict=False))
    size = (3.8 * len(shown) + 2.5, 0.3 * len(rows) + 1.3)
    fig, axes = plt.subplots(1, len(shown), figsize=size, sharey=True, squeeze=False)
    for ax, (column, label) in zip(axes[0], shown, strict=True):
        _summary_panel(ax, rows, column, label, colors)
    ax = axes[0][0]
    ax.set_yticks(range(len(rows)), [_label(name, r) for name, r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    for tick, (_, r) in zip(ax.get_yticklabels(), rows, strict=True):
        if r is None:
            tick.set_fontweight("bold")
        elif r["source"] != OWN_SOURCE:
            tick.set_fontstyle("italic")
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)
