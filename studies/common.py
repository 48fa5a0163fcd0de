"""What every study shares: the command line, logging, the output folder, results.json, report.md.

A study module describes itself with a :class:`Study` whose ``run(args, data)`` does the
experiment and returns a :class:`StudyOutput` (its results, figures and report text);
:func:`run_study` does everything around it, the same way for every study::

    parse the command line -> configure logging -> load the dataset -> make the output folder
    -> run the study -> save the figures -> write results.json (with the envelope: study,
    created, command, mode, versions, dataset, figures, timings) -> write report.md
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from matplotlib.figure import Figure
from tqdm.contrib.logging import logging_redirect_tqdm

from neurosim import STDPNetwork, plots
from neurosim.data import DatasetNotFoundError
from neurosim.experiment import (
    DATASET_CHOICES,
    VALIDATION_SEED,
    VALIDATION_SIZE,
    Dataset,
    fit_or_load,
    load_dataset,
    split_holdout,
    subset,
    validation_split,
)
from neurosim.io import atomic_write
from neurosim.spiking.network import ActivityRecording
from neurosim.sweep import BACKENDS

REPO = Path(__file__).resolve().parents[1]

logger = logging.getLogger(__name__)


# -- what a study is ---------------------------------------------------------------------------
@dataclass
class StudyOutput:
    """What a study's ``run`` hands to :func:`run_study`.

    Attributes
    ----------
    title : str
        Title of ``report.md``.
    results : dict
        The study's own entries of ``results.json`` (configuration, seeds, measurements);
        typed records (dataclasses), arrays and paths are turned into JSON when written.
    figures : dict of str to Figure
        Saved as ``<name>.png``.
    captions : dict of str to str
        Caption of each figure in the report.
    body : list of str
        Report lines between the dataset note and the figures (Markdown).
    dataset : dict
        Sizes of the subsets used, added to the dataset's description.
    timings : dict
        Times of the study's phases (seconds), beside the runner's ``total_seconds``.
    """

    title: str
    results: dict[str, Any]
    figures: dict[str, Figure]
    captions: dict[str, str]
    body: list[str]
    dataset: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    """A runnable study: ``python -m studies.<name>``.

    Attributes
    ----------
    name : str
        Module name under ``studies/``; also names the output folder.
    doc : str
        The module's docstring (its first line describes the command).
    run : callable
        ``run(args, data) -> StudyOutput`` with the parsed options and the loaded dataset.
    sweep : bool
        Whether the study runs a parallel sweep (adds ``--backend``, ``--n-jobs``,
        ``--address``).
    arguments : callable, optional
        Adds the study's own options to the parser.
    """

    name: str
    doc: str
    run: Callable[[argparse.Namespace, Dataset], StudyOutput]
    sweep: bool = False
    arguments: Callable[[argparse.ArgumentParser], None] | None = None

    def parser(self) -> argparse.ArgumentParser:
        """The command-line parser: the common options plus the study's own."""
        parser = argparse.ArgumentParser(
            prog=f"python -m studies.{self.name}", description=self.doc.splitlines()[0]
        )
        add_common_arguments(parser, sweep=self.sweep)
        if self.arguments is not None:
            self.arguments(parser)
        return parser

    def main(self, argv: Sequence[str] | None = None, **kwargs: Any) -> dict:
        """Command-line entry point; see :func:`run_study`."""
        return run_study(self, argv, **kwargs)


def add_common_arguments(parser: argparse.ArgumentParser, *, sweep: bool = False) -> None:
    """Options shared by the studies (mode, dataset, output, seed, cache, data, sweep)."""
    parser.add_argument("--quick", action="store_true", help="minutes instead of hours")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # for tests
    parser.add_argument("--dataset", choices=DATASET_CHOICES, default="auto")
    parser.add_argument("--out", type=Path, help="output folder (default results/<study>-<time>)")
    parser.add_argument("--force", action="store_true", help="write into an existing --out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cache", action="store_true", help="retrain instead of reusing")
    parser.add_argument("--cache-dir", type=Path, default=Path("results/cache"))
    parser.add_argument("--data-home", help="folder with the MNIST files")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    if sweep:
        parser.add_argument(
            "--backend",
            choices=BACKENDS,
            default="joblib",
            help="where the independent runs go (default: local processes via joblib)",
        )
        parser.add_argument(
            "--n-jobs", type=int, default=None, help="parallel runs (default: every core)"
        )
        parser.add_argument("--address", help="Dask scheduler address (with --backend dask)")


def mode_of(args: argparse.Namespace) -> str:
    """ "tiny", "quick" or "full" from the parsed options."""
    return "tiny" if args.tiny else "quick" if args.quick else "full"


# -- the validation protocol's splits and the spiking network (studies.labels, studies.convert)
class SplitSizes(Protocol):
    """Images of each split a study uses (``None``: all)."""

    n_learn: int | None
    n_val: int | None
    n_test: int | None


class SpikingConfig(Protocol):
    """The STDP network a study trains (see :func:`spiking_network`)."""

    snn_neurons: int
    snn_device: str
    snn_n_label: int | None


@dataclass
class StudySplits:
    """Learning, validation and test images of a study (see :func:`study_splits`)."""

    X_learn: np.ndarray
    y_learn: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    protocol: str

    def sizes(self) -> dict[str, int]:
        """Images in each split."""
        return {"n_learn": len(self.X_learn), "n_val": len(self.X_val), "n_test": len(self.X_test)}


def study_splits(config: SplitSizes, data: Dataset, seed: int) -> StudySplits:
    """The validation protocol's split of the training images, then seeded stratified subsets.

    MNIST's 60,000 training images split into 50,000 for learning and 10,000 for validation
    (:func:`~neurosim.experiment.validation_split`); a smaller dataset (scikit-learn's
    digits) holds out a fifth instead, with the same seed.
    """
    if len(data.X_train) > 2 * VALIDATION_SIZE:
        X_learn, y_learn, X_val, y_val = validation_split(data.X_train, data.y_train)
        protocol = "validation_split: 50,000 learning / 10,000 validation images, seed 0"
    else:
        n_val = len(data.X_train) // 5
        X_learn, y_learn, X_val, y_val = split_holdout(
            data.X_train, data.y_train, n_val, VALIDATION_SEED
        )
        protocol = f"a fifth ({n_val}) of the training images held out, seed 0"
    X_learn, y_learn = subset(X_learn, y_learn, config.n_learn, seed)
    X_val, y_val = subset(X_val, y_val, config.n_val, seed)
    X_test, y_test = subset(data.X_test, data.y_test, config.n_test, seed)
    return StudySplits(X_learn, y_learn, X_val, y_val, X_test, y_test, protocol)


def spiking_network(
    config: SpikingConfig, splits: StudySplits, args: argparse.Namespace
) -> tuple[STDPNetwork, dict[str, Any]]:
    """The network learnt without labels from the learning split: loaded from ``--model``
    (:func:`add_model_argument`), or trained (or taken from the model cache) here."""
    if args.model is not None:
        network = STDPNetwork.load(args.model)
        if network.n_features_in_ != splits.X_learn.shape[1]:
            raise SystemExit(
                f"error: {args.model} takes {network.n_features_in_} inputs, the images have "
                f"{splits.X_learn.shape[1]}"
            )
        logger.info("STDP network N=%d loaded from %s", network.n_neurons, args.model)
        return network, {
            "trained": f"loaded from {args.model}, trained elsewhere",
            "path": str(args.model),
            "examples_seen": int(network.examples_seen_),
        }
    model = STDPNetwork(
        n_neurons=config.snn_neurons,
        device=config.snn_device,
        n_label=config.snn_n_label,
        random_state=args.seed,
    )
    logger.info(
        "STDP network N=%d learns from %s images without labels",
        config.snn_neurons,
        f"{len(splits.X_learn):,}",
    )
    fit = fit_or_load(
        model,
        splits.X_learn,
        splits.y_learn,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
    )
    return fit.model, {
        "trained": "trained here" + (" (loaded from the model cache)" if fit.cached else ""),
        "cache_key": fit.key,
        "learning_seconds": fit.fit_seconds,
        "examples_seen": int(fit.model.examples_seen_),
    }


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """``--model``: a trained spiking network to use instead of training one."""
    parser.add_argument(
        "--model",
        type=Path,
        help="a trained STDPNetwork file (STDPNetwork.save) that learnt from the learning "
        "split only, used instead of training one (e.g. an N=400 network)",
    )


# -- the runner --------------------------------------------------------------------------------
def _data_and_folder(
    study: Study, args: argparse.Namespace, loader_kwargs: dict | None
) -> tuple[Dataset, Path]:
    """The study's dataset and its new output folder; a one-line ``SystemExit`` otherwise."""
    try:
        data = load_dataset(
            args.dataset,
            data_home=args.data_home,
            download=not args.no_download,
            **(loader_kwargs or {}),
        )
        folder = output_folder(study.name, args.out, args.force)
    except (DatasetNotFoundError, FileExistsError) as error:
        raise SystemExit(f"error: {error}") from error
    return data, folder


def run_study(
    study: Study, argv: Sequence[str] | None = None, *, loader_kwargs: dict | None = None
) -> dict:
    """Run ``study`` from its command line and write its folder.

    Parameters
    ----------
    study : Study
    argv : sequence of str, optional
        The options (default: ``sys.argv[1:]``).
    loader_kwargs : dict, optional
        Passed to the MNIST loader (e.g. ``fetch=`` in tests).

    Returns
    -------
    dict
        The contents of ``results.json``.

    Raises
    ------
    SystemExit
        With a one-line error when the dataset is missing or the output folder is occupied;
        nothing is written then.
    """
    configure_logging()
    args = study.parser().parse_args(argv)
    words = sys.argv[1:] if argv is None else list(argv)
    command = " ".join([f"python -m studies.{study.name}", *words])
    started = time.perf_counter()
    data, folder = _data_and_folder(study, args, loader_kwargs)
    logger.info("%s, %s mode, on %s; writing to %s", study.name, mode_of(args), data.name, folder)

    with logging_redirect_tqdm():  # log lines above the progress bars, not through them
        output = study.run(args, data)
    filenames = save_figures(folder, output.figures)
    sweep = {"sweep": {"backend": args.backend, "n_jobs": args.n_jobs}} if study.sweep else {}
    results = write_results(
        folder,
        {
            "study": study.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": command,
            "mode": mode_of(args),
            "versions": package_versions(),
            "dataset": {**data.info(), **output.dataset},
            **output.results,
            **sweep,
            "figures": filenames,
            "timings": {"total_seconds": time.perf_counter() - started, **output.timings},
        },
    )
    path = write_report(folder, output, results)
    logger.info("done in %s: %s", duration(results["timings"]["total_seconds"]), path)
    return results


# -- logging -----------------------------------------------------------------------------------
class _ConciseFormatter(logging.Formatter):
    """``[12:34:56] message``; warnings and errors also name their level."""

    _plain = logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S")
    _levelled = logging.Formatter("[%(asctime)s] %(levelname)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        formatter = self._plain if record.levelno < logging.WARNING else self._levelled
        return formatter.format(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (pytest and notebooks
    replace it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_ConciseFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: int = logging.INFO) -> None:
    """Log the studies' and the library's messages from ``level`` up, one short line each, to
    stderr; other libraries keep their own levels. Calling it again changes nothing more."""
    root = logging.getLogger()
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        root.addHandler(_StderrHandler())
    # A study run as ``python -m studies.<name>`` logs as "__main__".
    for name in ("neurosim", "studies", "__main__"):
        logging.getLogger(name).setLevel(level)


# -- pieces of the report ----------------------------------------------------------------------
def duration(seconds: float) -> str:
    """``45 s``, ``12 min`` or ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def dataset_tag(data: Dataset) -> str:
    """Short name for figure titles; says loudly when the data is not MNIST."""
    return "MNIST" if data.key == "mnist" else "sklearn digits, NOT MNIST"


def dataset_lines(dataset: Mapping[str, Any]) -> list[str]:
    """Report lines saying which dataset was used (and loudly when it is not MNIST)."""
    if dataset["key"] == "mnist":
        return [f"**Dataset: MNIST** — {dataset['source']}."]
    lines = [f"> **Dataset: {dataset['name']}.** These are not MNIST results."]
    if dataset.get("notice"):
        lines += [">", f"> {dataset['notice']}"]
    return lines


def package_versions() -> dict[str, str]:
    """Versions of Python and the main packages, the git commit and the platform."""
    import brian2
    import matplotlib
    import scipy
    import sklearn

    import neurosim

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "brian2": brian2.__version__,
        "sklearn": sklearn.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        "neurosim": neurosim.__version__,
        "git_commit": commit or "unknown",
        "platform": platform.platform(),
        "cpu_count": str(os.cpu_count()),
    }


def activity_figures(
    activity: ActivityRecording,
    example_labels: Sequence[str],
    *,
    raster_title: str,
    traces_title: str,
) -> dict[str, Figure]:
    """The spike raster and the membrane traces of one recording."""
    return {
        "spike_raster": plots.spike_raster(
            activity, example_labels=example_labels, title=raster_title
        ),
        "membrane_traces": plots.membrane_traces(
            activity, example_labels=example_labels, title=traces_title
        ),
    }


# -- writing -----------------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """``value`` with dataclasses, arrays, numpy scalars, tuples and paths turned into JSON
    types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def output_folder(study: str, out: Path | None, force: bool) -> Path:
    """The study's folder: ``out`` or ``results/<study>-<time>``; never reuses a non-empty one
    unless ``force``."""
    if out is None:
        out = Path("results") / f"{study}-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty; choose another --out or use --force")
    out.mkdir(parents=True, exist_ok=True)
    return out


def save_figures(folder: Path, figures: Mapping[str, Figure]) -> dict[str, str]:
    """Write each figure as ``<name>.png`` (atomically); returns name -> file name."""
    names = {}
    for name, figure in figures.items():
        names[name] = f"{name}.png"
        atomic_write(
            folder / names[name],
            lambda handle, fig=figure: fig.savefig(handle, format="png", dpi=110),
        )
    return names


def write_results(folder: Path, results: dict) -> dict:
    """Write ``results.json`` (atomically); returns the JSON-friendly results."""
    results = jsonable(results)
    text = json.dumps(results, indent=2).encode()
    atomic_write(folder / "results.json", lambda handle: handle.write(text))
    return results


def write_report(folder: Path, output: StudyOutput, results: Mapping[str, Any]) -> Path:
    """Write ``report.md``: title, dataset note, the study's text, when it was written, the
    figures with captions and the command to reproduce."""
    lines = [
        f"# {output.title}",
        "",
        *dataset_lines(results["dataset"]),
        "",
        *output.body,
        "",
        f"Written {results['created']}; the whole study took "
        f"{duration(results['timings']['total_seconds'])}.",
        "",
        "## Figures",
        "",
    ]
    for name, filename in results["figures"].items():
        lines += [f"### {output.captions.get(name, name)}", "", f"![{name}]({filename})", ""]
    lines += ["## Reproduce", "", "```", results["command"], "```", ""]
    text = "\n".join(lines).encode()
    return atomic_write(folder / "report.md", lambda handle: handle.write(text))
