"""The comparison study end to end at a tiny size (runtime Brian2 device, no compiler needed).

The main run uses MNIST when it can be found without downloading (CI points NEUROSIM_DATA at
it) and scikit-learn's digits otherwise; a second run checks the fallback explicitly.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from neurosim.comparison import COMPARISON_PRESETS
from studies import compare

FIGURES = {
    "comparison_bars",
    "learning_curves",
    "confusion_matrices",
    "receptive_fields_snn",
    "receptive_fields_mlp",
    "spike_raster",
    "membrane_traces",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    argv = ["--tiny", "--out", str(root / "out"), "--cache-dir", str(root / "cache")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEUROSIM_BUILD_CACHE", str(root / "builds"))
        results = compare.main([*argv, "--no-download"])
    return root, argv, results


def test_results_json_holds_every_figure_with_its_context(tiny_run):
    root, _, results = tiny_run
    stored = json.loads((root / "out" / "results.json").read_text())
    assert stored == results
    keys = ("config", "seeds", "versions", "dataset", "energy_model", "summary", "models")
    for key in (*keys, "warnings", "figures", "timings"):
        assert key in stored, key
    assert {"numpy", "brian2", "sklearn"} <= set(stored["versions"])
    assert stored["mode"] == "tiny" and stored["seeds"]["global"] == 0
    dataset = stored["dataset"]
    assert dataset["key"] in ("mnist", "digits") and dataset["source"]
    assert dataset["n_train"] == 10 and dataset["n_test"] == 10 and dataset["n_val"] == 10
    assert stored["timings"]["total_seconds"] > 0
    profiles = stored["energy_model"]["profiles"]
    assert set(profiles) == {"cpu-45nm", "loihi", "truenorth"}
    for profile in profiles.values():
        assert all(figure["source"] for figure in profile["figures"].values())
    assert "Horowitz" in profiles["cpu-45nm"]["figures"]["neuron update"]["source"]
    assert len(stored["snn_protocol"]["stable_vote_s"]) == 2  # the recorded test images


def test_summary_rows_are_sane(tiny_run):
    _, _, results = tiny_run
    snn, mlp, converted = results["summary"]
    for row in (snn, mlp, converted):
        assert 0.0 <= row["accuracy"] <= 1.0 and row["n_test"] == 10
        assert row["train_seconds"] > 0 and row["inference_ms_per_image"] > 0
        assert row["ops_per_inference"] > 0 and all(j > 0 for j in row["energy_j"].values())
    for row in (snn, mlp):
        assert 0.0 <= row["active_fraction"] <= 1.0
    assert snn["op_kind"] == "synaptic event"
    assert set(snn["energy_j"]) == {"cpu-45nm", "loihi", "truenorth"}
    assert snn["decision_latency_s"] >= 0.35  # at least one presentation
    assert not snn["uses_labels_for_learning"] and snn["labels_for_learning"].startswith("none")
    assert snn["examples_seen"] == 10 and snn["spikes_per_inference"] >= 0
    assert mlp["op_kind"] == "multiply-accumulate" and set(mlp["energy_j"]) == {"cpu-45nm"}
    assert mlp["decision_latency_s"] is None
    assert mlp["uses_labels_for_learning"] and mlp["spikes_per_inference"] is None
    assert mlp["examples_seen"] == 2 * 10  # two epochs
    assert mlp["ops_per_inference"] == 784 * 32 + 32 * 10
    snn_record = results["models"][snn["model"]]
    assert set(snn_record["learning_energy"]) == {"cpu-45nm", "loihi"}
    loihi = snn_record["energy"]["loihi"]
    assert loihi["execution"] == "event-driven" and loihi["energy_j"] == snn["energy_j"]["loihi"]
    assert all("Davies" in line["source"] for line in loihi["lines"])
    assert snn_record["activity"]["windows"] >= 1
    mlp_curve = results["models"][mlp["model"]]["learning_curve"]
    assert mlp_curve["examples_seen"] == [10, 20] and len(mlp_curve["accuracy"]) == 2


def test_the_converted_mlp_is_a_row_of_the_table(tiny_run):
    root, _, results = tiny_run
    _, mlp, converted = results["summary"]
    assert converted["model"] == "converted SNN 784-32-10"
    assert results["converted_from"] == {converted["model"]: mlp["model"]}
    assert converted["estimator"] == "ConvertedSNN" and converted["uses_labels_for_learning"]
    assert set(converted["energy_j"]) == {"cpu-45nm", "loihi", "truenorth"}
    assert converted["decision_latency_s"] == pytest.approx(0.1)  # 100 steps of 1 ms
    assert converted["operations"]["multiply-accumulate"] == 784 * 32  # its input current
    assert converted["examples_seen"] == mlp["examples_seen"] and converted["n_calibration"] == 10
    record = results["models"][converted["model"]]
    lines = record["energy"]["cpu-45nm"]["lines"]
    assert any(line["kind"] == "integrate-and-fire update" for line in lines)
    assert record["learning_energy"] == {} and record["activity"]["steps"] == 100
    report = (root / "out" / "report.md").read_text()
    assert f"| {converted['model']} |" in report and "**The converted network.**" in report
    assert "Integrate-and-fire updates in the converted network's" in report


def test_figures_and_report_are_written(tiny_run):
    root, _, results = tiny_run
    folder = root / "out"
    assert set(results["figures"]) == FIGURES
    for filename in results["figures"].values():
        assert (folder / filename).read_bytes()[:8] == PNG_MAGIC
    report = (folder / "report.md").read_text()
    head = "\n".join(report.splitlines()[:4])
    assert "Dataset:" in head
    assert ("MNIST" in head) if results["dataset"]["key"] == "mnist" else ("NOT MNIST" in head)
    assert "| model | test accuracy |" in report and "Horowitz" in report
    for text in ("## Cost per inference", "Which comparison is fair", "Latency to decision"):
        assert text in report
    assert "Davies" in report and "Merolla" in report and "% on cpu-45nm" in report
    for filename in results["figures"].values():
        assert f"]({filename})" in report


def test_existing_folder_needs_force_and_models_come_from_the_cache(tiny_run):
    _, argv, _ = tiny_run
    with pytest.raises(SystemExit, match="exists"):
        compare.main([*argv, "--no-download"])
    again = compare.main([*argv, "--no-download", "--force"])
    assert all(row["cached"] for row in again["summary"])


def test_auto_falls_back_to_digits_and_says_so(
    no_mnist, offline_fetch, tmp_path, capsys, monkeypatch
):
    quicker = dataclasses.replace(COMPARISON_PRESETS["tiny"], n_val=0, record_examples=1)
    monkeypatch.setitem(COMPARISON_PRESETS, "tiny", quicker)
    results = compare.main(
        ["--tiny", "--no-cache", "--out", str(tmp_path / "out")],
        loader_kwargs={"fetch": offline_fetch},
    )
    # the library's warning reaches stderr once, through the logging the runner set up
    printed = capsys.readouterr().err
    assert printed.count("MNIST is not available") == 1 and "NOT MNIST" in printed
    assert "WARNING: MNIST is not available" in printed and "NEUROSIM_DATA" in printed
    assert "STDP SNN N=10: training on 10 images" in printed  # library INFO is visible too
    assert results["dataset"]["key"] == "digits" and results["dataset"]["notice"]
    first_lines = (tmp_path / "out" / "report.md").read_text().splitlines()[:6]
    assert any("NOT MNIST" in line for line in first_lines)
    assert any("NEUROSIM_DATA" in line for line in first_lines)


def test_mnist_never_falls_back(no_mnist, offline_fetch, tmp_path):
    with pytest.raises(SystemExit, match="not found"):
        compare.main(
            ["--tiny", "--dataset", "mnist", "--out", str(tmp_path / "out")],
            loader_kwargs={"fetch": offline_fetch},
        )
    assert not (tmp_path / "out").exists()  # nothing written before the data was there


def test_health_check_flags_a_silent_or_runaway_network():
    history = [{"retry_fraction": 0.97, "theta_max_mV": 440.0}]
    warnings = compare.snn_health("SNN", 0.0, history)
    assert len(warnings) == 3 and "silent" in warnings[0] and "ran away" in warnings[1]
    assert "0.0 excitatory spikes" in warnings[2]
    assert compare.snn_health("SNN", 8.0, [{"retry_fraction": 0.3, "theta_max_mV": 50.0}]) == []


def test_command_line_options():
    parser = compare.STUDY.parser()
    args = parser.parse_args(["--quick", "--snn-params", '{"w_inh_exc": 34.0}', "--seed", "3"])
    assert args.quick and args.snn_params == {"w_inh_exc": 34.0} and args.seed == 3
    assert parser.parse_args([]).dataset == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["--dataset", "cifar"])
    quick = COMPARISON_PRESETS["quick"]
    estimate = compare.estimate_seconds(quick, quick.n_train - quick.n_val, 59000, 10000)
    assert 60 < estimate["total"] < 5 * 60  # the quick mode's budget on an idle machine
    full = COMPARISON_PRESETS["full"]
    assert full.snn_neurons == 400 and full.n_train is None and full.snn_passes == 1
