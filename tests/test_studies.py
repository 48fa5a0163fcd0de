"""The optimizer, scaling, robustness, raster and label studies end to end at a tiny size.

The spiking parts use Brian2's runtime device (no compiler). Each study must write its
figures, a results.json with the expected keys and sane values, and a report.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurosim import RateMLP
from neurosim.comparison import COMPARISON_PRESETS, comparison_splits
from neurosim.experiment import load_dataset
from studies import labels, optimizers, rasters, robustness, scaling

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("studies")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEUROSIM_BUILD_CACHE", str(root / "builds"))
        yield root


def run(module, workspace, name, *extra):
    out = workspace / name
    argv = ["--tiny", "--no-download", "--out", str(out), "--cache-dir", str(workspace / "cache")]
    results = module.main([*argv, *extra])
    stored = json.loads((out / "results.json").read_text())
    assert stored == results
    for key in ("study", "command", "mode", "config", "versions", "dataset", "figures", "timings"):
        assert key in stored, key
    assert stored["mode"] == "tiny" and stored["timings"]["total_seconds"] > 0
    for filename in stored["figures"].values():
        assert (out / filename).read_bytes()[:8] == PNG_MAGIC
    report = (out / "report.md").read_text()
    assert all(f"({f})" in report for f in stored["figures"].values())
    assert stored["command"] in report
    return stored


def test_optimizers_study(workspace):
    results = run(optimizers, workspace, "optimizers", "--n-jobs", "1")
    runs = results["runs"]
    assert [r["name"] for r in runs] == list(optimizers.OPTIMIZER_NAMES)
    for r in runs:
        assert len(r["history"]) == 2  # epochs
        assert all(h["loss"] > 0 and 0 <= h["val_accuracy"] <= 1 for h in r["history"])
        assert 0 <= r["test_accuracy"] <= 1 and r["learning_rate"] > 0
    # same seed and data: every optimizer starts from the same weights, so the first-epoch
    # losses differ only through the optimizer
    assert len({round(r["history"][0]["loss"], 6) for r in runs}) == len(runs)
    assert set(results["figures"]) == {"optimizer_curves"}


def test_optimizers_study_results_do_not_depend_on_the_backend(workspace):
    first = run(optimizers, workspace, "opt-seq", "--backend", "sequential", "--no-cache")
    second = run(optimizers, workspace, "opt-par", "--n-jobs", "2", "--no-cache")
    for a, b in zip(first["runs"], second["runs"], strict=True):
        assert a["test_accuracy"] == b["test_accuracy"]
        assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]


def test_scaling_study(workspace):
    results = run(scaling, workspace, "scaling", "--n-jobs", "1")
    assert [r["size"] for r in results["snn"]] == [4, 8]
    assert [r["size"] for r in results["mlp"]] == [8, 16]
    for r in results["snn"]:
        assert 0 <= r["accuracy"] <= 1 and r["learning_seconds"] > 0
        assert r["n_params"] == 784 * r["size"] and r["examples_seen"] == 12
    for r in results["mlp"]:
        assert r["n_params"] == 784 * r["size"] + r["size"] + 10 * r["size"] + 10
    assert results["paper_accuracy_percent"] == {
        "100": 82.9,
        "400": 87.0,
        "1600": 91.9,
        "6400": 95.0,
    }


def test_robustness_study_reuses_the_comparison_models(workspace):
    results = run(robustness, workspace, "robustness", "--n-jobs", "2")
    curves = results["perturbations"]
    assert set(curves) == {"pixel noise", "occlusion", "lesion"}
    models = set(results["models"])
    assert any(m.startswith("STDP") for m in models) and any(m.startswith("MLP") for m in models)
    for curve in curves.values():
        assert curve["levels"][0] == 0 and len(curve["levels"]) == 2
        assert set(curve["accuracy"]) == models
        for accuracy in curve["accuracy"].values():
            assert all(0 <= a <= 1 for a in accuracy)
    # level 0 is the clean test set, the same for every perturbation
    clean = {m: curves["pixel noise"]["accuracy"][m][0] for m in models}
    assert all(curve["accuracy"][m][0] == clean[m] for curve in curves.values() for m in models)
    # the clean accuracy is the model's own score on the first test images
    data = load_dataset("auto", download=False)
    splits = comparison_splits(COMPARISON_PRESETS["tiny"], data)
    n = results["dataset"]["n_test"]
    for name, info in results["models"].items():
        if name.startswith("MLP"):
            model = RateMLP.load(workspace / "cache" / f"{info['cache_key']}.npz")
            expected = model.score(splits.X_test[:n], splits.y_test[:n])
            assert results["clean_accuracy"][name] == pytest.approx(expected)
    # a second study finds the models in the cache
    again = run(rasters, workspace, "rasters")
    assert again["model"]["cached"] is True


def test_rasters_study(workspace):
    results = run(rasters, workspace, "rasters-2", "--digits", "0", "1", "7", "9")
    stats = results["statistics"]
    assert set(results["figures"]) == {"spike_raster", "membrane_traces", "firing_statistics"}
    assert results["digits"] and set(results["digits"]) <= {0, 1, 7, 9}
    assert results["recording"]["spikes_per_layer"]["input"] > 0
    assert set(stats["spikes_per_image"]) == {"input", "excitatory", "inhibitory"}
    assert all(v > 0 for v in stats["spikes_per_image"]["input"])
    assert stats["windows_per_image"] >= 1 and 0 <= stats["active_neuron_fraction"] <= 1
    assert len(stats["neuron_rates_hz"]) == 10  # the tiny network's neurons


def test_label_study_labels_one_network_from_every_draw(workspace):
    results = run(labels, workspace, "labels")
    config = labels.PRESETS["tiny"]
    assert results["k_per_class"] == [1, None]
    assert set(results["summary"]) == set(labels.MODELS)
    n_classes = len(results["dataset"]["classes"])
    for points in results["summary"].values():
        assert [p["n_labels"] for p in points] == [n_classes, results["dataset"]["n_learn"]]
        assert [p["n_draws"] for p in points] == [config.n_draws, 1]  # nothing to draw in "all"
        assert all(0 <= a <= 1 for p in points for a in p["test_accuracy"])
    assert len(results["runs"]) == (config.n_draws + 1) * len(labels.MODELS)
    chosen = {r["model"]: r["choice"] for r in results["runs"]}
    assert chosen[labels.STDP_LINEAR]["C"] in config.c_grid
    assert chosen[labels.PIXELS]["C"] in config.c_grid
    assert len(results["verdicts"]) == 5 and set(results["figures"]) == {"label_efficiency"}
    # a network trained elsewhere (here: the one just cached) is labelled the same way, and
    # the draws give the same results in one process as in parallel ones
    model = workspace / "cache" / f"{results['snn']['cache_key']}.npz"
    again = run(labels, workspace, "labels-model", "--model", str(model), "--backend", "sequential")
    assert again["snn"]["path"] == str(model)
    assert again["summary"] == results["summary"]


def test_labelled_draws_are_stratified_seeded_and_within_the_split():
    y = np.repeat(np.arange(3), [5, 7, 9])
    rows = labels.labelled_draw(y, 2, seed=4)
    assert np.bincount(y[rows]).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(rows, labels.labelled_draw(y, 2, seed=4))
    assert not np.array_equal(rows, labels.labelled_draw(y, 2, seed=5))
    np.testing.assert_array_equal(labels.labelled_draw(y, None, seed=4), np.arange(len(y)))


def test_verdict_names_where_the_lead_changes_hands():
    def points(means):
        return [
            {"k_per_class": k, "n_labels": 10 * (k or 100), "test_mean": m, "test_sd": 0.01}
            for k, m in zip((1, 10, None), means, strict=True)
        ]

    summary = {"A": points([0.6, 0.8, 0.9]), "B": points([0.4, 0.805, 0.95])}
    text = labels.verdict(summary, "A", "B")
    assert "beats B at k = 1 per class and not at k = 10, all" in text
    assert "between k = 1 and 10 per class (10 and 100 labels)" in text
    assert "within one standard deviation of the draws at k = 10)" in text
    assert labels.verdict(summary, "B", "B").startswith("**B** never beats B")
