"""Every figure function renders to PNG with the expected panels, labels and legends.

Inputs are small synthetic stand-ins for what the models produce, so nothing is simulated.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import dataclasses

import numpy as np
import pytest
from matplotlib.figure import Figure

from neurosim import plots
from neurosim.comparison import FiringStatistics, SummaryRow
from neurosim.spiking.network import ActivityRecording
from neurosim.spiking.params import PAPER_ACCURACY

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def render(fig: Figure, tmp_path, name: str) -> None:
    assert isinstance(fig, Figure)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 2000


def texts(fig: Figure) -> str:
    """All text drawn in a figure (titles, labels, annotations, legends), joined."""
    found = [fig.get_suptitle()] if fig.get_suptitle() else []
    for ax in fig.axes:
        found += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        found += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        found += [t.get_text() for t in legend.get_texts()]
    return "\n".join(found)


@pytest.fixture
def activity():
    """A recording of 2 examples over 3 windows; the second window drew too few spikes."""
    rng = np.random.default_rng(0)
    windows = [(0.0, 0, 2.0, True), (0.5, 1, 2.0, False), (1.0, 1, 3.0, True)]
    t = np.arange(0, 1.5, 0.0005)

    def spikes(n_spikes, n_neurons):
        return np.sort(rng.uniform(0, 1.5, n_spikes)), rng.integers(0, n_neurons, n_spikes)

    exc_t, exc_i = np.array([0.1, 0.2, 1.1, 1.2]), np.array([0, 1, 0, 2])
    v = -0.065 + 0.01 * np.sin(np.arange(3)[:, None] + 20 * t[None, :])
    return ActivityRecording(
        spikes={
            "input": spikes(3000, 784),
            "excitatory": (exc_t, exc_i),
            "inhibitory": spikes(5, 10),
        },
        layer_sizes={"input": 784, "excitatory": 10, "inhibitory": 10},
        windows=windows,
        window_s=0.5,
        presentation_s=0.35,
        dt_s=0.0005,
        trace_t=t,
        v=v,
        theta=np.full((3, len(t)), 0.021),
        neurons=np.array([0, 1, 2]),
        v_thresh=-0.052,
        theta_offset=0.020,
    )


def test_spike_raster(activity, tmp_path):
    fig = plots.spike_raster(activity, example_labels=["7", "2"])
    render(fig, tmp_path, "raster")
    axes = fig.axes
    assert len(axes) == 3
    assert [ax.get_ylabel().split()[0] for ax in axes] == ["input", "excitatory", "inhibitory"]
    assert axes[-1].get_xlabel() == "simulated time (s)"
    assert axes[0].get_ylim() == (-0.5, 783.5) and axes[1].get_ylim() == (-0.5, 9.5)
    assert axes[2].get_ylim() == (-0.5, 9.5)  # every neuron has a row, spiking or not
    assert axes[0].get_xlim() == (0.0, 1.5)
    text = texts(fig)
    assert "example 0 (label 7)" in text and "intensity 3" in text and "re-shown" in text
    assert "stimulus (350 ms)" in text and "rest (150 ms)" in text
    assert "3000 spikes" in text
    assert fig.get_suptitle()


def test_membrane_traces_draw_v_and_the_effective_threshold(activity, tmp_path):
    fig = plots.membrane_traces(activity)
    render(fig, tmp_path, "traces")
    assert len(fig.axes) == 3
    assert all("(mV)" in ax.get_ylabel() for ax in fig.axes)
    assert fig.axes[0].get_ylabel().startswith("neuron 0")
    assert fig.axes[-1].get_xlabel() == "simulated time (s)"
    threshold = fig.axes[0].lines[1].get_ydata()
    np.testing.assert_allclose(threshold, (0.021 - 0.020 - 0.052) * 1e3)
    spikes_of_neuron_0 = fig.axes[0].lines[2].get_xdata()
    np.testing.assert_allclose(spikes_of_neuron_0, [0.1, 1.1])
    text = texts(fig)
    assert "membrane potential v" in text and "threshold" in text and "spike" in text


def test_membrane_traces_use_the_recording_s_threshold_constants(activity):
    other = dataclasses.replace(activity, v_thresh=-0.050, theta_offset=0.010)
    fig = plots.membrane_traces(other)
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), (0.021 - 0.010 - 0.050) * 1e3)


def test_learning_curves_from_histories_and_arrays(tmp_path):
    mlp_history = [
        {"epoch": e, "examples_seen": 3000 * e, "wall_time": 0.5 * e, "val_accuracy": 0.8 + e / 100}
        for e in range(1, 6)
    ]
    snn_history = [
        {"examples_seen": 1000, "wall_time": 5.0, "val_accuracy": None},
        {"examples_seen": 2000, "wall_time": 10.0, "val_accuracy": 0.6},
        {"examples_seen": 3000, "wall_time": 15.0, "val_accuracy": 0.7},
    ]
    curves = {
        "SNN": snn_history,
        "MLP": mlp_history,
        "MLP (dict)": {"examples_seen": [60000], "wall_time": [20.0], "accuracy": [0.97]},
    }
    fig = plots.learning_curves(curves, chance=0.1)
    render(fig, tmp_path, "curves")
    by_examples, by_time = fig.axes
    assert "training examples" in by_examples.get_xlabel()
    assert by_time.get_xlabel() == "training wall time (s)"
    assert by_examples.get_ylabel() == "validation accuracy (%)"
    assert [line.get_label() for line in by_examples.lines][:3] == ["SNN", "MLP", "MLP (dict)"]
    np.testing.assert_allclose(by_examples.lines[0].get_ydata(), [60.0, 70.0])  # None skipped
    assert by_examples.get_xscale() == "log"  # 1,000 .. 60,000 examples
    assert "chance" in texts(fig)


def test_learning_curves_without_records_still_render(tmp_path):
    fig = plots.learning_curves(
        {"SNN": [{"examples_seen": 1, "wall_time": 1, "val_accuracy": None}]}
    )
    render(fig, tmp_path, "empty")
    assert "no validation records" in texts(fig)
    fig = plots.learning_curves(
        {
            "SNN": [{"examples_seen": 1, "wall_time": 1, "val_accuracy": None}],
            "MLP": {"examples_seen": [10], "wall_time": [0.1], "accuracy": [0.5]},
        }
    )
    assert "SNN (no validation records)" in texts(fig)


def test_receptive_fields_of_positive_and_signed_weights(tmp_path):
    rng = np.random.default_rng(1)
    snn = rng.random((784, 30))
    fig = plots.receptive_fields(snn, n=25, labels=list(range(30)), title="SNN fields")
    render(fig, tmp_path, "snn_fields")
    ax = fig.axes[0]
    image = ax.images[0]
    assert image.get_array().shape == (5 * 29 + 1, 5 * 29 + 1)  # 5x5 tiles, 1-pixel gaps
    assert image.get_clim() == (0.0, pytest.approx(snn[:, :25].max()))
    assert "25 of 30" not in ax.get_xlabel() and "units 0-24 of 30" in ax.get_xlabel()
    assert ax.get_title() == "SNN fields"
    assert len(ax.texts) == 25
    assert fig.axes[1].get_ylabel() == "input weight (dimensionless)"  # the colour bar

    mlp = rng.normal(size=(784, 256))
    fig = plots.receptive_fields(mlp, n=None)
    render(fig, tmp_path, "mlp_fields")
    low, high = fig.axes[0].images[0].get_clim()
    assert low == pytest.approx(-high)  # symmetric about zero for signed weights
    assert "units 0-255 of 256" in fig.axes[0].get_xlabel()


def test_receptive_fields_reject_a_wrong_shape():
    with pytest.raises(ValueError, match="n_inputs"):
        plots.receptive_fields(np.zeros((100, 4)))


def test_confusion_matrices_side_by_side(tmp_path):
    y_true = np.array([0, 0, 1, 1, 2, 2])
    results = {"SNN": (y_true, np.array([0, 1, 1, 1, 2, 0])), "MLP": (y_true, y_true)}
    fig = plots.confusion_matrices(results)
    render(fig, tmp_path, "confusion")
    snn_ax, mlp_ax, colorbar = fig.axes
    assert snn_ax.get_xlabel() == "predicted class" and snn_ax.get_ylabel() == "true class"
    assert "66.7 %" in snn_ax.get_title() and "100.0 %" in mlp_ax.get_title()
    assert "SNN" in snn_ax.get_title()
    np.testing.assert_allclose(mlp_ax.images[0].get_array(), 100 * np.eye(3))
    assert "%" in colorbar.get_ylabel()


def _row(model, accuracy, train_seconds, ops):
    """A summary row with the metrics the bars draw (the rest is filler)."""
    return SummaryRow(
        model=model,
        estimator="",
        accuracy=accuracy,
        n_test=100,
        train_seconds=train_seconds,
        learning_seconds=None,
        compile_seconds=None,
        n_train=1000,
        examples_seen=1000,
        inference_ms_per_image=1.0,
        ops_per_inference=ops,
        operations={},
        op_kind="",
        energy_j={},
        decision_latency_s=None,
        spikes_per_inference=None,
        active_fraction=0.5,
        labels_for_learning="",
        uses_labels_for_learning=False,
        cached=False,
    )


SUMMARY = [
    _row("STDP SNN N=100", 0.82, 300.0, 1.6e6),
    _row("MLP 784-256-10", 0.97, 12.0, 203264),
]
ENERGY = {
    ("MLP 784-256-10", "cpu-45nm"): {"multiply-accumulate": 9.35e-7, "weight read": 1.0e-6},
    ("STDP SNN N=100", "cpu-45nm"): {"synaptic event": 1.4e-6, "neuron update": 2.6e-5},
    ("STDP SNN N=100", "truenorth"): {"synaptic event": 5.0e-6},
}


def test_comparison_bars(tmp_path):
    fig = plots.comparison_bars(SUMMARY, energy=ENERGY, footnote="4.6 pJ per MAC (Horowitz)")
    render(fig, tmp_path, "bars")
    accuracy, train_time, ops, energy, shares = fig.axes
    assert accuracy.get_ylabel() == "test accuracy (%)"
    assert [bar.get_height() for bar in accuracy.patches] == pytest.approx([82.0, 97.0])
    assert train_time.get_yscale() == "linear"  # a factor of 25: linear
    assert "training wall time (s)" in train_time.get_ylabel()
    assert "operations per inference" in ops.get_ylabel()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["STDP SNN N=100", "MLP 784-256-10"]
    assert "1.6M" in [t.get_text() for t in ops.texts]  # bar values in short form
    # energy: one bar per (model, profile), in the model's colour, named by profile
    assert "µJ" in energy.get_ylabel() and energy.get_yscale() == "linear"
    assert [bar.get_height() for bar in energy.patches] == pytest.approx([1.935, 27.4, 5.0])
    assert [t.get_text() for t in energy.get_xticklabels()] == ["cpu-45nm"] * 2 + ["truenorth"]
    assert energy.patches[1].get_facecolor() == energy.patches[2].get_facecolor()
    assert energy.patches[0].get_facecolor() != energy.patches[1].get_facecolor()
    # shares: each (model, profile) sums to 100 %, one colour per operation kind
    widths = np.array([bar.get_width() for bar in shares.patches]).reshape(4, 3)
    np.testing.assert_allclose(widths.sum(axis=0), 100)
    kinds = [t.get_text() for t in shares.get_legend().get_texts()]
    assert kinds == ["multiply-accumulate", "weight read", "synaptic event", "neuron update"]
    assert "95" in [t.get_text() for t in shares.texts]  # neuron updates: 26 of 27.4 µJ
    assert "Horowitz" in fig.get_supxlabel()


def test_comparison_bars_without_energy_have_one_row():
    fig = plots.comparison_bars(SUMMARY)
    assert len(fig.axes) == 3 and fig.get_figheight() == pytest.approx(4.8)


def test_comparison_bars_use_a_log_axis_for_wide_ranges(tmp_path):
    summary = {row.model: dataclasses.asdict(row) for row in SUMMARY}
    summary["STDP SNN N=100"]["train_seconds"] = 3000.0  # 250x the MLP's
    fig = plots.comparison_bars(summary)
    render(fig, tmp_path, "bars_log")
    assert fig.axes[1].get_yscale() == "log" and "log scale" in fig.axes[1].get_ylabel()


def _history(epochs, scale):
    return [
        {"epoch": e, "wall_time": 0.5 * e * scale, "loss": 1.0 / (e * scale), "val_accuracy": 0.8}
        for e in range(1, epochs + 1)
    ]


def test_optimizer_curves_four_panels_with_seed_bands(tmp_path):
    runs = {"SGD": [_history(4, 1.0), _history(4, 1.1)], "Adam": [_history(4, 2.0)]}
    fig = plots.optimizer_curves(runs)
    render(fig, tmp_path, "optimizers")
    assert len(fig.axes) == 4
    top_left, top_right, bottom_left, bottom_right = fig.axes
    assert top_left.get_yscale() == "log"
    assert "epoch" in bottom_left.get_xlabel() and "wall time (s)" in bottom_right.get_xlabel()
    assert "validation accuracy (%)" in bottom_left.get_ylabel()
    assert [t.get_text() for t in bottom_left.get_legend().get_texts()] == ["SGD", "Adam"]
    assert len(top_left.collections) == 1  # the range band of SGD's two seeds only
    assert "median of 2 seeds" in fig.get_suptitle()
    np.testing.assert_allclose(bottom_left.lines[0].get_ydata(), [80.0] * 4)


def test_scaling_curves_show_the_paper_and_the_measurements(tmp_path):
    snn = [
        {"n_neurons": n, "accuracy": a, "train_seconds": s, "curve": c}
        for n, a, s, c in (
            (100, 0.8, 10.0, {"examples_seen": [100, 200], "accuracy": [0.5, 0.7]}),
            (25, 0.6, 4.0, {}),
        )
    ]
    mlp = [
        {"hidden": h, "accuracy": 0.9, "train_seconds": 1.0, "n_params": 784 * h} for h in (16, 64)
    ]
    fig = plots.scaling_curves(snn, mlp)
    render(fig, tmp_path, "scaling")
    text = texts(fig)
    assert "Diehl & Cook 2015" in text and "this library (measured)" in text
    assert "training wall time (s)" in text and "hidden units" in text
    by_size = fig.axes[0]
    measured, paper = by_size.lines[:2]
    np.testing.assert_allclose(measured.get_xdata(), [25, 100])  # sorted by size
    np.testing.assert_allclose(paper.get_ydata(), list(PAPER_ACCURACY.values()))
    assert len(fig.axes[1].lines) == 1  # only N=100 has a learning curve


def test_robustness_curves_one_panel_per_perturbation(tmp_path):
    perturbations = {
        name: {
            "levels": [0, 1, 2],
            "xlabel": f"{name} level",
            "accuracy": {"A": [0.9, 0.5, 0.2], "B": [0.8, 0.7, 0.6]},
        }
        for name in ("noise", "occlusion", "lesion")
    }
    fig = plots.robustness_curves(perturbations, chance=0.1)
    render(fig, tmp_path, "robustness")
    assert [ax.get_title() for ax in fig.axes] == ["noise", "occlusion", "lesion"]
    assert fig.axes[0].get_ylabel() == "test accuracy (%)"
    np.testing.assert_allclose(fig.axes[2].lines[1].get_ydata(), [80, 70, 60])


def test_firing_statistics_by_digit_and_neuron(tmp_path):
    stats = FiringStatistics(
        classes=[0, 1, 2],
        spikes_per_image={
            "input": [2000, 900, 1800],
            "excitatory": [20, 15, 18],
            "inhibitory": [30, 20, 25],
        },
        neuron_rates_hz=[0.0, 0.0, 3.0, 5.0, 10.0],
        windows_per_image=1.2,
        re_presented_fraction=0.2,
        active_neuron_fraction=0.6,
        spikes_per_image_excitatory_accepted=18.0,
        synaptic_events_per_image=1e5,
        presentation_s=0.35,
    )
    fig = plots.firing_statistics(stats)
    render(fig, tmp_path, "firing")
    by_class, by_neuron = fig.axes
    assert len(by_class.patches) == 9  # 3 layers x 3 digits
    assert "2 of 5 neurons silent" in by_neuron.get_title()
    assert "350 ms" in by_neuron.get_xlabel()


def test_label_efficiency_draws_the_mean_over_draws_on_a_log_axis(tmp_path):
    curves = {
        "A": {"labels": [10, 100, 1000], "accuracy": [[0.3, 0.5], [0.7, 0.8], [0.9]]},
        "B": {"labels": [10, 100, 1000], "accuracy": [[0.6, 0.6], [0.7, 0.7], [0.8]]},
    }
    fig = plots.label_efficiency(curves, chance=0.1)
    render(fig, tmp_path, "labels")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "test accuracy (%)"
    means = [line for line in ax.lines if line.get_label() == "A"][0]
    np.testing.assert_allclose(means.get_ydata(), [40, 75, 90])
    assert {"A", "B", "chance"} <= set(texts(fig).split("\n"))
