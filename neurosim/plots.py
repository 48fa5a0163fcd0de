"""Figures of the two models: spike rasters, membrane traces, learning curves, receptive
fields, confusion matrices and a side-by-side comparison.

Every function returns a :class:`matplotlib.figure.Figure` built with the object-oriented API
(no pyplot state, so it works under any backend, in scripts, tests and notebooks); save it
with ``fig.savefig("name.png")`` or display it in a notebook.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter

from neurosim.spiking.params import PAPER_ACCURACY

if TYPE_CHECKING:
    from neurosim.comparison import FiringStatistics, SummaryRow
    from neurosim.conversion.engine import Recording
    from neurosim.spiking.network import ActivityRecording

__all__ = [
    "comparison_bars",
    "confusion_matrices",
    "conversion_curves",
    "conversion_rasters",
    "firing_statistics",
    "label_efficiency",
    "learning_curves",
    "membrane_traces",
    "optimizer_curves",
    "rate_code",
    "receptive_fields",
    "robustness_curves",
    "scaling_curves",
    "spike_raster",
]

_STIMULUS_COLOR = "#fde9a9"
_REJECTED_COLOR = "#f4c7c3"
_LAYER_COLORS = {"input": "#4c72b0", "excitatory": "#c44e52", "inhibitory": "#55a868"}


def _model_colors(names: Sequence[str]) -> dict[str, Any]:
    """One stable colour per model, in the order given (the same in every figure)."""
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    return {name: palette[index % len(palette)] for index, name in enumerate(names)}


def _shade_windows(ax, activity: ActivityRecording, *, annotate: bool, labels=None) -> None:
    """Shade each window's stimulus period; optionally write example and intensity above it."""
    presentation = activity.presentation_s
    for start, example, intensity, accepted in activity.windows:
        color = _STIMULUS_COLOR if accepted else _REJECTED_COLOR
        ax.axvspan(start, start + presentation, color=color, zorder=0, lw=0)
        if annotate:
            text = f"example {example}"
            if labels is not None and 0 <= example < len(labels):
                text += f" (label {labels[example]})"
            text += f"\nintensity {intensity:g}"
            if not accepted:
                text += "\n< 5 spikes: re-shown"
            ax.annotate(
                text,
                xy=(start + presentation / 2, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )


def _window_legend_handles(activity: ActivityRecording) -> list[Patch]:
    presentation_ms = 1e3 * activity.presentation_s
    rest_ms = 1e3 * (activity.window_s - activity.presentation_s)
    handles = [
        Patch(color=_STIMULUS_COLOR, label=f"stimulus ({presentation_ms:.0f} ms)"),
        Patch(facecolor="white", edgecolor="0.6", label=f"rest ({rest_ms:.0f} ms)"),
    ]
    if any(not accepted for *_, accepted in activity.windows):
        handles.append(Patch(color=_REJECTED_COLOR, label="stimulus, too few spikes"))
    return handles


def _time_limits(activity: ActivityRecording) -> tuple[float, float]:
    if not activity.windows:
        return 0.0, activity.window_s
    return 0.0, activity.windows[-1][0] + activity.window_s


def _raster_panel(ax, activity: ActivityRecording, layer: str) -> None:
    """One layer's spikes, a row per neuron, with its size and spike count beside the panel."""
    from matplotlib.ticker import MaxNLocator

    times, neurons = (np.asarray(a) for a in activity.spikes[layer])
    size = activity.layer_sizes[layer]
    # Tick height about one row's height in points, within readable limits.
    row_points = 72 * ax.get_position().height * ax.figure.get_figheight() / max(size, 1)
    ax.plot(
        times,
        neurons,
        linestyle="none",
        marker="|",
        markersize=float(np.clip(row_points, 2.0 if layer == "input" else 4.0, 9.0)),
        markeredgewidth=0.6 if layer == "input" else 1.2,
        color=_LAYER_COLORS[layer],
        rasterized=len(times) > 5000,
    )
    ax.set_ylim(-0.5, size - 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.set_ylabel(f"{layer} neuron\n(index)")
    ax.text(
        1.01,
        0.0,
        f"{layer}:\n{size} neurons\n{len(times)} spikes",
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=8,
    )


def spike_raster(
    activity: ActivityRecording,
    *,
    example_labels: Sequence[Any] | None = None,
    title: str = "Spiking network activity (learning frozen)",
) -> Figure:
    """Raster of input, excitatory and inhibitory spikes, one panel per layer.

    Every neuron of a layer has a row (``activity.layer_sizes``).

    Parameters
    ----------
    activity : ActivityRecording
        From :meth:`neurosim.STDPNetwork.record_activity`.
    example_labels : sequence, optional
        True label of each recorded example, written next to its index.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    layers = ("input", "excitatory", "inhibitory")
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, height_ratios=[2.2, 1, 1])
    for index, (ax, layer) in enumerate(zip(axes, layers, strict=True)):
        _shade_windows(ax, activity, annotate=index == 0, labels=example_labels)
        _raster_panel(ax, activity, layer)
    axes[-1].set_xlabel("simulated time (s)")
    axes[-1].set_xlim(*_time_limits(activity))
    axes[0].legend(
        handles=_window_legend_handles(activity),
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(title)
    return fig


def _membrane_panel(
    ax, t: np.ndarray, v: np.ndarray, threshold: np.ndarray, fired: np.ndarray
) -> None:
    """One neuron's membrane potential and threshold (mV), its spikes marked above both."""
    ax.plot(t, v, color="#1f3b73", lw=0.7, label="membrane potential v")
    ax.plot(
        t,
        threshold,
        color="#c44e52",
        lw=1.2,
        ls="--",
        label=r"threshold $\theta - \theta_{offset} + v_{thresh}$",
    )
    top = max(float(np.max(threshold)), float(np.max(v))) + 2.0
    ax.plot(
        fired,
        np.full(len(fired), top),
        linestyle="none",
        marker="v",
        markersize=5,
        color="black",
        label="spike",
    )


def membrane_traces(
    activity: ActivityRecording,
    *,
    example_labels: Sequence[Any] | None = None,
    title: str = "Membrane potential and adaptive threshold",
) -> Figure:
    """Membrane potential and firing threshold of a few excitatory neurons over time.

    A neuron spikes when ``v > theta - theta_offset + v_thresh`` (constants of the
    recording); the dashed line is that threshold. Stimulus periods are shaded and the
    neurons' spikes marked.

    Parameters
    ----------
    activity : ActivityRecording
        From :meth:`neurosim.STDPNetwork.record_activity`.
    example_labels : sequence, optional
        True label of each recorded example, written above its window.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.asarray(activity.trace_t)
    v = np.atleast_2d(np.asarray(activity.v)) * 1e3
    theta = np.atleast_2d(np.asarray(activity.theta))
    threshold = (theta - activity.theta_offset + activity.v_thresh) * 1e3
    neurons = [int(i) for i in activity.neurons]
    spike_t, spike_i = (np.asarray(a) for a in activity.spikes["excitatory"])

    fig = Figure(figsize=(10, 1.2 + 1.9 * len(v)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(v), 1, sharex=True, squeeze=False)[:, 0])
    for row, ax in enumerate(axes):
        _shade_windows(ax, activity, annotate=row == 0, labels=example_labels)
        fired = spike_t[spike_i == neurons[row]]
        _membrane_panel(ax, t, v[row], threshold[row], fired)
        ax.set_ylabel(f"neuron {neurons[row]}\n(mV)")
    axes[-1].set_xlabel("simulated time (s)")
    axes[-1].set_xlim(*_time_limits(activity))
    handles, labels = axes[0].get_legend_handles_labels()
    handles += _window_legend_handles(activity)
    labels += [h.get_label() for h in _window_legend_handles(activity)]
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig


def _curve(points: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(examples_seen, wall_time, accuracy)`` from a history list or a dict of arrays."""
    if isinstance(points, Mapping):
        accuracy = points.get("accuracy", points.get("val_accuracy"))
        return (
            np.asarray(points["examples_seen"], dtype=float),
            np.asarray(points["wall_time"], dtype=float),
            np.asarray(accuracy, dtype=float),
        )
    records = [r for r in points if r.get("val_accuracy") is not None]
    return (
        np.array([r["examples_seen"] for r in records], dtype=float),
        np.array([r["wall_time"] for r in records], dtype=float),
        np.array([r["val_accuracy"] for r in records], dtype=float),
    )


def _wide_range(values: np.ndarray, factor: float = 30.0) -> bool:
    """Whether the positive values span more than ``factor`` (then a log axis reads better)."""
    values = values[np.isfinite(values) & (values > 0)]
    return len(values) > 1 and values.max() / values.min() > factor


def learning_curves(
    curves: Mapping[str, Any],
    *,
    chance: float | None = None,
    title: str = "Learning curves (validation accuracy)",
) -> Figure:
    """Accuracy against training examples seen and against training wall time.

    Parameters
    ----------
    curves : dict
        Model name -> its ``history_`` (records without ``val_accuracy`` are skipped) or a
        dict with ``examples_seen``, ``wall_time`` and ``accuracy`` arrays (fractions).
    chance : float, optional
        Chance accuracy (fraction) drawn as a dotted line.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    by_examples, by_time = fig.subplots(1, 2, sharey=True)
    colors = _model_colors(list(curves))
    all_examples, all_times = [], []
    for name, points in curves.items():
        examples, times, accuracy = _curve(points)
        if len(accuracy) == 0:  # still named in the legend, so its absence is visible
            by_examples.plot([], [], color=colors[name], label=f"{name} (no validation records)")
            continue
        all_examples.append(examples)
        all_times.append(times)
        style = {"color": colors[name], "marker": "o", "markersize": 4, "label": name}
        by_examples.plot(examples, 100 * accuracy, **style)
        by_time.plot(times, 100 * accuracy, **style)
    for ax, values in ((by_examples, all_examples), (by_time, all_times)):
        if values and _wide_range(np.concatenate(values), factor=10.0):
            ax.set_xscale("log")
        if chance is not None:
            ax.axhline(100 * chance, color="0.5", ls=":", lw=1, label="chance")
        ax.grid(alpha=0.3)
    by_examples.set_xlabel("training examples seen (presentations)")
    by_time.set_xlabel("training wall time (s)")
    by_examples.set_ylabel("validation accuracy (%)")
    by_examples.set_title("vs training examples")
    by_time.set_title("vs wall-clock time")
    by_examples.set_ylim(0, 100)
    if all_examples:
        by_examples.legend(loc="lower right", fontsize=8)
    else:
        by_examples.text(
            0.5, 0.5, "no validation records", transform=by_examples.transAxes, ha="center"
        )
    fig.suptitle(title)
    return fig


def _tile_mosaic(weights: np.ndarray, shape: tuple[int, int], ncols: int) -> np.ndarray:
    """The columns of ``weights`` as ``shape`` tiles, row by row, with NaN gaps around them."""
    height, width = shape
    nrows = math.ceil(weights.shape[1] / ncols)
    mosaic = np.full((nrows * (height + 1) + 1, ncols * (width + 1) + 1), np.nan)
    for unit in range(weights.shape[1]):
        r, c = divmod(unit, ncols)
        top, left = 1 + r * (height + 1), 1 + c * (width + 1)
        mosaic[top : top + height, left : left + width] = weights[:, unit].reshape(shape)
    return mosaic


def _weight_color_scale(shown: np.ndarray) -> dict[str, Any]:
    """``imshow`` colours of weights: diverging about zero when signed, else 0..max; gaps grey."""
    from matplotlib import colormaps

    signed = shown.min() < 0
    if signed:
        limit = float(np.percentile(np.abs(shown), 99)) or 1.0
        cmap, norm = "RdBu_r", TwoSlopeNorm(0.0, -limit, limit)
    else:
        cmap, norm = "hot_r", None
    return {
        "cmap": colormaps[cmap].with_extremes(bad="0.4"),  # bad: the gaps between tiles
        "norm": norm,
        "vmin": None if signed else 0.0,
        "vmax": None if signed else float(shown.max()) or 1.0,
    }


def _label_tiles(ax, labels: Sequence[Any], count: int, shape: tuple[int, int], ncols: int) -> None:
    """Write the first ``count`` labels in the top left corners of :func:`_tile_mosaic`'s tiles."""
    height, width = shape
    for unit in range(count):
        r, c = divmod(unit, ncols)
        ax.text(
            1 + c * (width + 1) + 0.5,
            1 + r * (height + 1) + 0.5,
            str(labels[unit]),
            fontsize=6,
            color="black",
            ha="left",
            va="top",
            bbox={"facecolor": "white", "alpha": 0.75, "lw": 0, "pad": 0.6},
        )


def receptive_fields(
    weights: np.ndarray,
    shape: tuple[int, int] = (28, 28),
    n: int | None = 100,
    *,
    labels: Sequence[Any] | None = None,
    ncols: int | None = None,
    title: str = "Receptive fields",
) -> Figure:
    """Tile the columns of an input weight matrix as images.

    Use it for :attr:`STDPNetwork.weights_ <neurosim.STDPNetwork.weights_>` (non-negative,
    shown on a shared 0..max scale) and ``RateMLP.coefs_[0]`` (signed, shown on a shared
    scale symmetric about zero, clipped at the 99th percentile of ``|w|``).

    The tiling, colour scale and labels are helpers; what stays here is the docstring and
    the figure's sizing and axes, which read best together.

    Parameters
    ----------
    weights : ndarray of shape (n_inputs, n_units)
        One column per unit; ``n_inputs`` must equal ``shape[0] * shape[1]``.
    shape : (int, int)
        Image shape of a column.
    n : int, optional
        Units shown (the first ``n``); ``None`` shows all.
    labels : sequence, optional
        Per-unit label (e.g. the spiking network's ``assignments_``) written in each tile.
    ncols : int, optional
        Tiles per row (default: about square).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2 or weights.shape[0] != shape[0] * shape[1]:
        raise ValueError(
            f"weights must be (n_inputs, n_units) with n_inputs = {shape[0]}*{shape[1]}; "
            f"got {weights.shape}"
        )
    count = weights.shape[1] if n is None else min(int(n), weights.shape[1])
    ncols = ncols or math.ceil(math.sqrt(count))
    nrows = math.ceil(count / ncols)
    height, width = shape
    tile_inches = float(np.clip(6.5 / ncols, 0.55, 1.3))
    fig = Figure(
        figsize=(1.9 + tile_inches * ncols, 1.3 + tile_inches * nrows), layout="constrained"
    )
    ax = fig.subplots()
    image = ax.imshow(
        _tile_mosaic(weights[:, :count], shape, ncols),
        interpolation="nearest",
        **_weight_color_scale(weights[:, :count]),
    )
    if labels is not None:
        _label_tiles(ax, labels, count, shape, ncols)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(
        f"units 0-{count - 1} of {weights.shape[1]}, row by row\n"
        f"each tile: {height} x {width} input pixels"
        + ("; number: assigned class" if labels is not None else "")
    )
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.set_label("input weight (dimensionless)")
    ax.set_title(title, fontsize=10, wrap=True)
    return fig


def confusion_matrices(
    results: Mapping[str, tuple[Any, Any]],
    *,
    labels: Sequence[Any] | None = None,
    title: str = "Confusion matrices on the test set",
) -> Figure:
    """Row-normalised confusion matrices of several models, side by side.

    Parameters
    ----------
    results : dict
        Model name -> ``(y_true, y_pred)``.
    labels : sequence, optional
        Class order (default: the sorted union of all labels).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    from sklearn.metrics import confusion_matrix

    if labels is None:
        labels = np.unique(
            np.concatenate([np.asarray(a) for pair in results.values() for a in pair])
        )
    labels = list(labels)
    k = len(results)
    fig = Figure(figsize=(0.6 + 4.3 * k, 4.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, k, squeeze=False)[0])
    image = None
    for ax, (name, (y_true, y_pred)) in zip(axes, results.items(), strict=True):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        counts = confusion_matrix(y_true, y_pred, labels=labels)
        rows = counts.sum(axis=1, keepdims=True)
        share = 100 * counts / np.maximum(rows, 1)
        image = ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
        if len(labels) <= 12:
            for (r, c), value in np.ndenumerate(share):
                if counts[r, c]:
                    ax.text(
                        c,
                        r,
                        f"{value:.0f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if value > 55 else "black",
                    )
        ax.set_xticks(range(len(labels)), [str(label) for label in labels])
        ax.set_yticks(range(len(labels)), [str(label) for label in labels])
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        accuracy = float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")
        ax.set_title(f"{name}\naccuracy {100 * accuracy:.1f} % (n = {len(y_true)})", fontsize=10)
    if image is not None:
        colorbar = fig.colorbar(image, ax=list(axes), shrink=0.8)
        colorbar.set_label("share of the true class (%)")
    fig.suptitle(title)
    return fig


def _si(value: float) -> str:
    """Short number: 0.935, 93.8, 4.2k, 233k, 1.6M."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


_BAR_METRICS = (
    ("accuracy", "test accuracy (%)", 100.0, "{:.1f}".format),
    ("train_seconds", "training wall time (s)", 1.0, _si),
    ("ops_per_inference", "operations per inference\n(MACs and synaptic events)", 1.0, _si),
)


def _bar_panel(
    ax, summary: Mapping[str, Mapping[str, float]], colors: Mapping[str, Any], metric: tuple
) -> None:
    """One metric of :data:`_BAR_METRICS` as a bar per model that has it, values written on top."""
    key, label, scale, fmt = metric
    present = [n for n in summary if summary[n].get(key) is not None]
    values = np.array([float(summary[n][key]) * scale for n in present])
    _value_bars(ax, values, [colors[n] for n in present], fmt, headroom=key == "accuracy")
    ax.set_xticks(np.arange(len(present)), [""] * len(present))  # the legend names the bars
    ax.tick_params(axis="x", length=0)
    ax.set_ylabel(label + (" (log scale)" if ax.get_yscale() == "log" else ""))


def _value_bars(
    ax, values: np.ndarray, colors: Sequence[Any], fmt: Callable[[float], str], headroom=False
) -> None:
    """Bars with their values on top; a log axis when the values span more than 30x."""
    bars = ax.bar(np.arange(len(values)), values, color=colors, width=0.65)
    if _wide_range(values):
        ax.set_yscale("log")
        ax.set_ylim(values[values > 0].min() / 3, values.max() * 6)
    elif headroom:
        ax.set_ylim(0, 130)  # room for the legend
    else:
        ax.set_ylim(0, max(values.max(), 1e-12) * 1.2 if len(values) else 1)
    ax.bar_label(bars, [fmt(v) for v in values], fontsize=8, padding=2)
    ax.grid(axis="y", alpha=0.3)


def _energy_panels(
    fig, energy: Mapping[tuple[str, str], Mapping[str, float]], colors: Mapping[str, Any]
) -> None:
    """Total energy per inference of each (model, profile), and its share by operation kind."""
    from matplotlib import colormaps

    total_ax, share_ax = fig.subplots(1, 2, width_ratios=(1.0, 1.6))
    keys = list(energy)
    totals = np.array([sum(energy[key].values()) for key in keys])
    _value_bars(total_ax, totals * 1e6, [colors[model] for model, _ in keys], _si)
    total_ax.set_xticks(
        np.arange(len(keys)),
        [profile for _, profile in keys],
        fontsize=8,
        rotation=40,
        ha="right",
        rotation_mode="anchor",
    )
    log = " (log scale)" if total_ax.get_yscale() == "log" else ""
    total_ax.set_ylabel(f"energy per inference (µJ){log}")
    total_ax.set_title("estimated energy per inference, by hardware profile", fontsize=10)
    kinds = list(dict.fromkeys(kind for key in keys for kind in energy[key]))
    palette = colormaps["Set2"].colors  # muted: apart from the models' colours
    rows = np.arange(len(keys))
    left = np.zeros(len(keys))
    for index, kind in enumerate(kinds):
        share = np.array(
            [
                100 * energy[key].get(kind, 0.0) / max(total, 1e-300)
                for key, total in zip(keys, totals, strict=True)
            ]
        )
        share_ax.barh(rows, share, left=left, color=palette[index % len(palette)], label=kind)
        for row in np.flatnonzero(share >= 8):
            share_ax.text(
                left[row] + share[row] / 2,
                row,
                f"{share[row]:.0f}",
                ha="center",
                va="center",
                fontsize=7,
            )
        left += share
    share_ax.set_yticks(rows, [f"{model}\n{profile}" for model, profile in keys], fontsize=7)
    share_ax.invert_yaxis()
    share_ax.set_xlim(0, 100)
    share_ax.set_xlabel("share of the energy per inference (%)")
    share_ax.set_title("by operation kind", fontsize=10)
    share_ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def comparison_bars(
    summary: Mapping[str, Mapping[str, float]] | Sequence[SummaryRow],
    *,
    energy: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
    title: str = "Rate-based MLP vs spiking STDP network",
    footnote: str | None = None,
) -> Figure:
    """Bars of accuracy, training time and operations per inference for each model, and
    optionally of the energy per inference on each hardware profile with its breakdown.

    Panels whose values span more than a factor of 30 use a logarithmic axis.

    Parameters
    ----------
    summary : dict or list of SummaryRow
        Model name -> {"accuracy" (fraction), "train_seconds", "ops_per_inference"}; or rows
        of :func:`neurosim.comparison.summary_row`. Missing metrics are left out of their panel.
    energy : dict, optional
        (model name, profile name) -> energy per inference in joules by operation kind (e.g.
        :meth:`neurosim.energy.EnergyEstimate.by_kind`). Adds a row: the total of each, and
        each kind's share of it. Model names should be those of ``summary`` (their colours).
    title : str
    footnote : str, optional
        Small text under the panels (e.g. the energy assumptions and their sources).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(summary, Mapping):
        summary = {row.model: dataclasses.asdict(row) for row in summary}
    names = list(summary)
    colors = _model_colors(list(dict.fromkeys([*names, *(m for m, _ in energy or {})])))
    width = max(11.0, 1.1 * len(names) * len(_BAR_METRICS))
    fig = Figure(figsize=(width, 9.6 if energy else 4.8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 1.0)) if energy else (fig, None)
    axes = top.subplots(1, len(_BAR_METRICS))
    for ax, metric in zip(axes, _BAR_METRICS, strict=True):
        _bar_panel(ax, summary, colors, metric)
    axes[0].legend(
        handles=[Patch(color=colors[n], label=n) for n in names],
        loc="upper left",
        fontsize=8,
        framealpha=0.9,
    )
    if energy:
        _energy_panels(bottom, energy, colors)
    if footnote:  # as a figure-level x label, so the layout keeps room for it
        fig.supxlabel(textwrap.fill(footnote, 190), fontsize=7, ha="left", x=0.01)
    fig.suptitle(title)
    return fig


def _median_band(series: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, minimum and maximum across runs (truncated to the shortest run)."""
    length = min(len(s) for s in series)
    stacked = np.array([np.asarray(s[:length], dtype=float) for s in series])
    return np.median(stacked, axis=0), stacked.min(axis=0), stacked.max(axis=0)


def optimizer_curves(
    runs: Mapping[str, Sequence[Sequence[Mapping[str, Any]]]],
    *,
    title: str = "Optimizers on the same MLP",
) -> Figure:
    """Training loss and validation accuracy against epochs and against wall time.

    Parameters
    ----------
    runs : dict
        Optimizer name -> one ``RateMLP.history_`` per seed (records with ``epoch``,
        ``wall_time``, ``loss``, ``val_accuracy``). Lines are the median over seeds; with
        several seeds a band shows their range.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2, sharey="row")
    colors = _model_colors(list(runs))
    for name, histories in runs.items():
        epochs = np.array([r["epoch"] for r in histories[0]], dtype=float)
        times, _, _ = _median_band([[r["wall_time"] for r in h] for h in histories])
        epochs = epochs[: len(times)]
        for row, key in enumerate(("loss", "val_accuracy")):
            values = [[r[key] for r in h] for h in histories]
            if any(v is None for run in values for v in run):
                continue
            scale = 100.0 if key == "val_accuracy" else 1.0
            median, low, high = (scale * a for a in _median_band(values))
            for col, x in enumerate((epochs, times)):
                ax = axes[row, col]
                ax.plot(x, median, marker="o", markersize=3, color=colors[name], label=name)
                if len(histories) > 1:
                    ax.fill_between(x, low, high, color=colors[name], alpha=0.2, lw=0)
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylabel("training loss (cross-entropy, log scale)")
    axes[1, 0].set_ylabel("validation accuracy (%)")
    for col, label in enumerate(("epoch", "training wall time (s)")):
        axes[1, col].set_xlabel(label)
        axes[0, col].set_title(f"vs {'epochs' if col == 0 else 'wall-clock time'}")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    axes[1, 0].legend(loc="lower right", fontsize=8)
    n_seeds = max(len(h) for h in runs.values()) if runs else 0
    if n_seeds > 1:
        title += f" (median of {n_seeds} seeds; band: range)"
    fig.suptitle(title)
    return fig


def _label_sizes(ax, sizes: Sequence[int]) -> None:
    """Ticks exactly at the given sizes on a log axis, without minor tick labels."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _snn_by_size(ax, snn: Sequence[Mapping[str, Any]], paper: Mapping[int, float]) -> None:
    """Test accuracy against N beside the paper's, training time on a second axis."""
    sizes = np.array([r["n_neurons"] for r in snn], dtype=float)
    order = np.argsort(sizes)
    accuracy = np.array([100 * r["accuracy"] for r in snn])[order]
    seconds = np.array([r["train_seconds"] for r in snn])[order]
    ax.plot(sizes[order], accuracy, "o-", color="#c44e52", label="this library (measured)")
    ax.plot(
        list(paper), list(paper.values()), "s--", color="0.4", mfc="none", label="Diehl & Cook 2015"
    )
    ax.set_xscale("log")
    _label_sizes(ax, sorted({*sizes.astype(int).tolist(), *paper}))
    ax.set_xlabel("excitatory neurons N (log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("STDP network: accuracy and training time vs N")
    time_axis = ax.twinx()
    time_axis.plot(sizes[order], seconds, "^:", color="#4c72b0", label="training wall time")
    time_axis.set_ylabel("training wall time (s)", color="#4c72b0")
    time_axis.tick_params(axis="y", colors="#4c72b0")
    lines = ax.get_legend_handles_labels()
    extra = time_axis.get_legend_handles_labels()
    ax.legend(lines[0] + extra[0], lines[1] + extra[1], loc="lower right", fontsize=8)


def _snn_by_examples(ax, snn: Sequence[Mapping[str, Any]]) -> None:
    """Validation accuracy during training against examples seen, a line per network size."""
    colors = _model_colors([f"N={r['n_neurons']}" for r in snn])
    for r in snn:
        curve = r.get("curve") or {}
        if curve.get("accuracy"):
            ax.plot(
                curve["examples_seen"],
                100 * np.asarray(curve["accuracy"], dtype=float),
                "o-",
                markersize=3,
                color=colors[f"N={r['n_neurons']}"],
                label=f"N={r['n_neurons']}",
            )
    ax.set_xlabel("training examples seen")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("STDP network: accuracy vs training examples")
    if ax.lines:
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no validation records", transform=ax.transAxes)


def _mlp_by_width(ax, mlp: Sequence[Mapping[str, Any]]) -> None:
    """The MLP's test accuracy against its hidden width, each point with its size and time."""
    widths = np.array([r["hidden"] for r in mlp], dtype=float)
    order = np.argsort(widths)
    ax.plot(widths[order], [100 * mlp[i]["accuracy"] for i in order], "o-", color="#55a868")
    for i in order:
        ax.annotate(
            f"{mlp[i]['n_params'] / 1e3:.0f}k params\n{mlp[i]['train_seconds']:.1f} s",
            (widths[i], 100 * mlp[i]["accuracy"]),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=7,
        )
    ax.set_xscale("log")
    _label_sizes(ax, sorted(widths.astype(int).tolist()))
    ax.margins(x=0.15, y=0.2)
    ax.set_xlabel("hidden units (one layer, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("MLP: accuracy vs width")


def scaling_curves(
    snn: Sequence[Mapping[str, Any]],
    mlp: Sequence[Mapping[str, Any]],
    *,
    paper: Mapping[int, float] = PAPER_ACCURACY,
    title: str = "Accuracy and cost against network size",
) -> Figure:
    """The spiking network against its size and training examples; the MLP against its width.

    Parameters
    ----------
    snn : list of dict
        One per network size: ``n_neurons``, ``accuracy`` (test, fraction), ``train_seconds``,
        and optionally ``curve`` (``examples_seen`` and ``accuracy`` lists: validation
        accuracy during training).
    mlp : list of dict
        One per hidden size: ``hidden``, ``accuracy`` (fraction), ``train_seconds``,
        ``n_params``.
    paper : dict
        Network size -> test accuracy in %, drawn as reference markers (default: the
        paper's, :data:`neurosim.spiking.params.PAPER_ACCURACY`).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    by_size, by_examples, by_width = fig.subplots(1, 3)
    _snn_by_size(by_size, snn, paper)
    _snn_by_examples(by_examples, snn)
    _mlp_by_width(by_width, mlp)
    for ax in (by_size, by_examples, by_width):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def robustness_curves(
    perturbations: Mapping[str, Mapping[str, Any]],
    *,
    chance: float | None = None,
    title: str = "Robustness",
) -> Figure:
    """Accuracy of each model against the strength of each perturbation, one panel each.

    Parameters
    ----------
    perturbations : dict
        Perturbation name -> ``{"levels": [...], "xlabel": str, "accuracy": {model: [...]}}``
        (accuracies as fractions, one per level).
    chance : float, optional
        Chance accuracy (fraction), a dotted line.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(4.6 * max(len(perturbations), 1), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(len(perturbations), 1), sharey=True))
    models = list(dict.fromkeys(m for p in perturbations.values() for m in p["accuracy"]))
    colors = _model_colors(models)
    for ax, (name, perturbation) in zip(axes, perturbations.items(), strict=False):
        for model, accuracy in perturbation["accuracy"].items():
            ax.plot(
                perturbation["levels"],
                100 * np.asarray(accuracy, dtype=float),
                "o-",
                color=colors[model],
                label=model,
            )
        if chance is not None:
            ax.axhline(100 * chance, color="0.5", ls=":", lw=1, label="chance")
        ax.set_title(name)
        ax.set_xlabel(perturbation["xlabel"])
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    fig.suptitle(title)
    return fig


def firing_statistics(
    stats: FiringStatistics,
    *,
    title: str = "Firing statistics",
) -> Figure:
    """Spikes per image by digit and layer, and the distribution of excitatory firing.

    Parameters
    ----------
    stats : FiringStatistics
        From :func:`neurosim.comparison.measure_firing_statistics`.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(12, 4.4), layout="constrained")
    by_class, by_neuron = fig.subplots(1, 2)
    classes = [str(c) for c in stats.classes]
    layers = list(stats.spikes_per_image)
    width = 0.8 / max(len(layers), 1)
    x = np.arange(len(classes))
    for k, layer in enumerate(layers):
        by_class.bar(
            x + (k - (len(layers) - 1) / 2) * width,
            stats.spikes_per_image[layer],
            width,
            color=_LAYER_COLORS.get(layer),
            label=layer,
        )
    by_class.set_xticks(x, classes)
    by_class.set_yscale("log")
    by_class.set_xlabel("digit shown")
    by_class.set_ylabel("spikes per image (mean, log scale)")
    by_class.set_title("Activity of each layer by digit")
    peak = max((max(v) for v in stats.spikes_per_image.values()), default=1.0)
    by_class.set_ylim(top=max(peak, 1.0) * 10)  # room for the legend above the bars
    by_class.legend(fontsize=8, ncols=len(layers), loc="upper center")
    rates = np.asarray(stats.neuron_rates_hz, dtype=float)
    silent = int(np.sum(rates == 0))
    by_neuron.hist(rates[rates > 0], bins=30, color=_LAYER_COLORS["excitatory"])
    by_neuron.set_xlabel(
        f"mean firing rate during the {1e3 * stats.presentation_s:.0f} ms presentations (Hz)"
    )
    by_neuron.set_ylabel("excitatory neurons")
    by_neuron.set_title(f"Excitatory firing rates ({silent} of {len(rates)} neurons silent)")
    for ax in (by_class, by_neuron):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def label_efficiency(
    curves: Mapping[str, Mapping[str, Sequence[Any]]],
    *,
    chance: float | None = None,
    title: str = "Accuracy against labelled examples",
) -> Figure:
    """Test accuracy of each model against the labelled examples it used (log scale).

    Parameters
    ----------
    curves : dict
        Model name -> ``{"labels": [...], "accuracy": [[...], ...]}``: the labelled examples
        of each point and the accuracies (fractions) of that point's draws. The line joins
        the means over draws, the band spans their range and each draw is a dot.
    chance : float, optional
        Chance accuracy (fraction), a dotted line.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(8.5, 5.2), layout="constrained")
    ax = fig.subplots()
    colors = _model_colors(list(curves))
    for name, curve in curves.items():
        labels = np.asarray(curve["labels"], dtype=float)
        draws = [100 * np.asarray(accuracy, dtype=float) for accuracy in curve["accuracy"]]
        ax.plot(labels, [d.mean() for d in draws], "o-", color=colors[name], label=name)
        low, high = [d.min() for d in draws], [d.max() for d in draws]
        ax.fill_between(labels, low, high, color=colors[name], alpha=0.2, lw=0)
        for x, d in zip(labels, draws, strict=True):
            ax.plot(np.full(len(d), x), d, ".", color=colors[name], alpha=0.6, markersize=4)
    if chance is not None:
        ax.axhline(100 * chance, color="0.5", ls=":", lw=1, label="chance")
    ax.set_xscale("log")
    _label_sizes(ax, sorted({int(x) for curve in curves.values() for x in curve["labels"]}))
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel("labelled examples used (log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    return fig


# -- the converted network ---------------------------------------------------------------------
_CONVERSION_AXES = (
    ("time_ms", "simulated time per image (ms, log scale)"),
    ("operations", "operations per inference (log scale)"),
    ("energy_uj", "estimated energy per inference (µJ, log scale)"),
)


def conversion_curves(
    models: Sequence[Mapping[str, Any]],
    *,
    title: str = "Accuracy against time, operations and energy",
) -> Figure:
    """Accuracy of each model against simulated time, operations and energy per inference.

    All three axes are logarithmic, so the first steps of a converted network and a model
    that decides after hundreds of milliseconds fit on one figure.

    Parameters
    ----------
    models : sequence of dict
        One per model: ``name``, ``accuracy`` (fractions) and, on the same points,
        ``time_ms``, ``operations`` and ``energy_uj``: lists for a curve (the converted
        network after each time step), numbers for a point. A model whose ``time_ms`` is
        ``None`` (the ANN) is a horizontal line in the time panel.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(15, 4.8), layout="constrained")
    axes = fig.subplots(1, len(_CONVERSION_AXES), sharey=True)
    colors = _model_colors([m["name"] for m in models])
    lowest = 100.0
    for model in models:
        accuracy = 100 * np.atleast_1d(np.asarray(model["accuracy"], dtype=float))
        lowest = min(lowest, float(accuracy.max()) if len(accuracy) > 1 else float(accuracy[0]))
        for ax, (key, _) in zip(axes, _CONVERSION_AXES, strict=True):
            if model[key] is None:
                ax.axhline(accuracy[-1], color=colors[model["name"]], ls="--", label=model["name"])
                continue
            x = np.atleast_1d(np.asarray(model[key], dtype=float))
            if len(x) > 1:
                ax.plot(x, accuracy, "-", color=colors[model["name"]], label=model["name"])
            else:  # a point, drawn above the curves that may pass through it
                ax.plot(
                    x,
                    accuracy,
                    "*",
                    ms=12,
                    zorder=3,
                    color=colors[model["name"]],
                    label=model["name"],
                )
    for ax, (_, label) in zip(axes, _CONVERSION_AXES, strict=True):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels collide
        ax.set_xlabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_ylim(max(0.0, math.floor(lowest / 5) * 5 - 5), 100)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    fig.suptitle(title)
    return fig


def conversion_rasters(
    recording: Recording,
    *,
    example_labels: Sequence[str],
    dt_ms: float,
    title: str = "Spikes of the converted network",
) -> Figure:
    """One raster per layer of the converted network, the images one after another in time.

    Parameters
    ----------
    recording : neurosim.conversion.engine.Recording
        From :meth:`neurosim.ConvertedSNN.record_activity`.
    example_labels : sequence of str
        A label per image (e.g. its digit).
    dt_ms : float
        Duration of a time step.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    layers = list(recording.spikes)
    n_steps = recording.v.shape[1]
    fig = Figure(figsize=(12, 2.2 + 2.0 * len(layers)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(layers), 1, sharex=True))
    for ax, layer in zip(axes, layers, strict=True):
        steps, image, neuron = recording.spikes[layer]
        ax.plot((image * n_steps + steps + 1) * dt_ms, neuron, "|", ms=2, color="0.15")
        ax.set_ylabel(f"{layer}\nneuron")
        for k, label in enumerate(example_labels):
            ax.axvline(k * n_steps * dt_ms, color="0.6", lw=0.8)
            if ax is axes[0]:
                ax.text(
                    (k + 0.5) * n_steps * dt_ms,
                    1.02,
                    label,
                    transform=ax.get_xaxis_transform(),
                    ha="center",
                )
    axes[-1].set_xlabel(f"time (ms): {n_steps} steps per image, images one after another")
    axes[-1].set_xlim(0, len(example_labels) * n_steps * dt_ms)
    fig.suptitle(title)
    return fig


def rate_code(
    points: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]],
    *,
    title: str = "Firing rate against ReLU activation",
) -> Figure:
    """Each converted neuron's firing rate against its unit's activation, one panel per layer.

    Parameters
    ----------
    points : dict
        Series name (e.g. the input coding) -> layer -> ``(activation, rate)``: the normalised
        ANN activation and the measured rate of each neuron on each image, both in spikes per
        time step. The dotted line is the rate code's promise, ``min(max(a, 0), 1)``.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    layers = list(dict.fromkeys(layer for series in points.values() for layer in series))
    fig = Figure(figsize=(4.6 * len(layers), 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(layers)))
    colors = _model_colors(list(points))
    for ax, layer in zip(axes, layers, strict=True):
        low, high = 0.0, 1.0
        for name, series in points.items():
            if layer not in series:
                continue
            activation, rate = (np.asarray(v, dtype=float) for v in series[layer])
            ax.plot(activation, rate, ".", ms=2, alpha=0.3, color=colors[name], label=name)
            low, high = min(low, float(activation.min())), max(high, float(activation.max()))
        line = np.linspace(low, high, 200)
        ax.plot(line, np.clip(line, 0.0, 1.0), ":", color="0.3", label="min(max(a, 0), 1)")
        ax.set_title(layer)
        ax.set_xlabel("ANN activation / layer scale")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("spikes per time step (rate x dt)")
    axes[0].legend(fontsize=8, markerscale=5)
    fig.suptitle(title)
    return fig
