"""What every study shares: command-line options, the output folder, results.json, report.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from neurosim.data import DatasetNotFoundError
from neurosim.experiment import Dataset, load_dataset
from neurosim.io import atomic_write
from neurosim.sweep import BACKENDS

REPO = Path(__file__).resolve().parents[1]


def duration(seconds: float) -> str:
    """``45 s``, ``12 min`` or ``1.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def say(message: str) -> None:
    """A status line with the time of day."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def add_common_arguments(parser: argparse.ArgumentParser, *, sweep: bool = False) -> None:
    """Options shared by the studies (mode, dataset, output, seed, cache, data, sweep)."""
    parser.add_argument("--quick", action="store_true", help="minutes instead of hours")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # for tests
    parser.add_argument("--dataset", choices=("auto", "mnist", "digits"), default="auto")
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


def build_parser(
    study: str,
    doc: str,
    *,
    sweep: bool = False,
    extra_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.ArgumentParser:
    """The command-line parser of ``python -m studies.<study>``: common options plus extras."""
    parser = argparse.ArgumentParser(
        prog=f"python -m studies.{study}", description=doc.splitlines()[0]
    )
    add_common_arguments(parser, sweep=sweep)
    if extra_arguments is not None:
        extra_arguments(parser)
    return parser


def run_cli(
    study: str,
    doc: str,
    run: Callable[[argparse.Namespace, str], dict],
    argv: Sequence[str] | None,
    *,
    sweep: bool = False,
    extra_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> dict:
    """Parse a study's command line and run it as ``run(args, command)``.

    Missing data and an occupied output folder end the program with a one-line error.
    """
    parser = build_parser(study, doc, sweep=sweep, extra_arguments=extra_arguments)
    args = parser.parse_args(argv)
    words = sys.argv[1:] if argv is None else list(argv)
    command = " ".join([f"python -m studies.{study}", *words])
    try:
        return run(args, command)
    except (DatasetNotFoundError, FileExistsError) as error:
        raise SystemExit(f"error: {error}") from error


def mode_of(args: argparse.Namespace) -> str:
    """ "tiny", "quick" or "full" from the parsed options."""
    return "tiny" if args.tiny else "quick" if args.quick else "full"


def load_study_dataset(args: argparse.Namespace) -> Dataset:
    """The dataset chosen on the command line, announcing any fallback to the digits."""
    data = load_dataset(args.dataset, data_home=args.data_home, download=not args.no_download)
    if data.notice:
        say("NOTICE: " + data.notice)
    return data


def dataset_tag(data: Dataset) -> str:
    """Short name for figure titles; says loudly when the data is not MNIST."""
    return "MNIST" if data.key == "mnist" else "sklearn digits, NOT MNIST"


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


def jsonable(value: Any) -> Any:
    """``value`` with arrays, numpy scalars, tuples and paths turned into JSON types."""
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


def dataset_lines(dataset: Mapping[str, Any]) -> list[str]:
    """Report lines saying which dataset was used (and loudly when it is not MNIST)."""
    if dataset["key"] == "mnist":
        return [f"**Dataset: MNIST** — {dataset['source']}."]
    lines = [f"> **Dataset: {dataset['name']}.** These are not MNIST results."]
    if dataset.get("notice"):
        lines += [">", f"> {dataset['notice']}"]
    return lines


def write_report(
    folder: Path,
    title: str,
    body: Sequence[str],
    figures: Mapping[str, str],
    captions: Mapping[str, str],
    command: str,
    total_seconds: float,
) -> Path:
    """Write ``report.md`` and announce the study done after ``total_seconds``.

    The report holds the title, body lines, the figures with captions and the command to
    reproduce.
    """
    lines = [f"# {title}", "", *body, "", "## Figures", ""]
    for name, filename in figures.items():
        lines += [f"### {captions.get(name, name)}", "", f"![{name}]({filename})", ""]
    lines += ["## Reproduce", "", "```", command, "```", ""]
    text = "\n".join(lines).encode()
    path = atomic_write(folder / "report.md", lambda handle: handle.write(text))
    say(f"done in {duration(total_seconds)}: {path}")
    return path
