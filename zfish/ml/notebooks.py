"""``python -m zfish.ml.notebooks``: run the committed notebooks top to bottom against a small lake.

By default it builds a fresh small lake in a temporary folder (the
seed-default study, three simulated evenings with one SparkSession, enough
commits for time travel and for "results as more labels arrive"), executes
every notebook in ``notebooks/`` with nbclient in a ``python3`` kernel of
this interpreter, writes the executed copies to ``--output`` and prints how
long each took. ``--lake DIR`` runs them against an existing lake instead
(e.g. after ``make simulate``); ``--keep`` keeps the temporary lake.

The notebooks find the lake through ``ZFISH_LAKE`` (and the study through
``ZFISH_DATA``); figures are drawn with ``MPLBACKEND=Agg``, so no display is
needed. A failing notebook is still written out (up to the failing cell) and
named with the cell; the exit status is then non-zero.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zfish import console
from zfish.exceptions import PrerequisiteError, ValidationError, ZfishError
from zfish.settings import ENV_DATA, ENV_LAKE, LakeLayout

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from zfish.generator import StudySpec

DEFAULT_EVENINGS: tuple[date, ...] = (date(2025, 5, 10), date(2025, 5, 20), date(2025, 6, 2))
KERNEL = "python3"
CELL_TIMEOUT_SECONDS = 600


def notebooks_dir() -> Path:
    """The repository's ``notebooks/`` folder (beside the package in a checkout)."""
    return Path(__file__).resolve().parents[2] / "notebooks"


def find_notebooks(folder: Path) -> list[Path]:
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise ValidationError(
            f"no notebooks in {folder}: run from a zfish checkout or pass --notebooks DIR"
        )
    return found


@dataclass(frozen=True)
class SmallLake:
    data: Path
    layout: LakeLayout
    evenings: tuple[date, ...]


def build_small_lake(
    root: Path,
    *,
    spark: SparkSession | None = None,
    spec: StudySpec | None = None,
    data_dir: Path | None = None,
    evenings: Sequence[date] = DEFAULT_EVENINGS,
    show_progress: bool = False,
) -> SmallLake:
    """Simulate ``evenings`` into the lake ``root/lake``, from a study generated for the purpose.

    The study is ``spec`` (default: the seed's) generated into ``root/synthetic_data``, or the
    one already in ``data_dir`` (generated there first when ``spec`` is given too).

    One SparkSession serves every evening: the given one, or the process's
    (:func:`zfish.spark.get_spark`).
    """
    from zfish.generator import StudySpec, generate
    from zfish.simulate import evening

    data = data_dir if data_dir is not None else root / "synthetic_data"
    if data_dir is None or spec is not None:
        generate(spec if spec is not None else StudySpec(), data, show_progress=show_progress)
    layout = LakeLayout(root=root / "lake")
    if spark is None:
        from zfish.spark import get_spark

        spark = get_spark()
    for day in sorted(evenings):
        evening(spark, data, layout, day, show_progress=show_progress)
    return SmallLake(data=data, layout=layout, evenings=tuple(sorted(evenings)))


@dataclass(frozen=True)
class NotebookRun:
    """How one notebook went: where its executed copy is, and the failing cell if any."""

    name: str
    output: Path
    seconds: float
    error: str | None = None
    failed_cell: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def kernel_env(lake_root: Path, data_dir: Path | None = None) -> dict[str, str]:
    """This process's environment plus what the notebooks read (lake, study, Agg backend)."""
    env = dict(os.environ)
    env[ENV_LAKE] = str(lake_root.resolve())
    if data_dir is not None:
        env[ENV_DATA] = str(data_dir.resolve())
    env["MPLBACKEND"] = "Agg"
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet the kernel's debugger warning
    return env


def _failed_cell(nb: Any) -> tuple[int | None, str]:
    """The index and first source line of the first cell with an error output."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                return index, f"{output.get('ename')}: {output.get('evalue')} (in `{first}`)"
    return None, ""


def execute(
    notebook: Path,
    output: Path,
    env: Mapping[str, str],
    *,
    cwd: Path | None = None,
    timeout: int = CELL_TIMEOUT_SECONDS,
) -> NotebookRun:
    """Execute ``notebook`` in a fresh kernel and write the executed copy to ``output``."""
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as exc:  # pragma: no cover - the test extra is missing
        raise PrerequisiteError(
            f"running notebooks needs nbclient, nbformat and ipykernel ({exc}); "
            "install them with: pip install -e '.[test]'"
        ) from exc

    nb = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=timeout,
        # The kernel's own log (e.g. "running over TCP without encryption" on localhost) is noise.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str((cwd or notebook.parent).resolve())}},
    )
    started = time.perf_counter()
    error: str | None = None
    cell: int | None = None
    try:
        client.execute(env=dict(env))
    except CellExecutionError:
        cell, detail = _failed_cell(nb)
        error = f"cell {cell} failed: {detail}" if cell is not None else "a cell failed"
    except CellTimeoutError as exc:
        error = f"a cell ran longer than {timeout}s: {str(exc).splitlines()[0]}"
    except DeadKernelError as exc:
        error = f"the kernel died: {exc}"
    seconds = time.perf_counter() - started
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)  # type: ignore[no-untyped-call]
    return NotebookRun(notebook.name, output, seconds, error, cell)


def run_notebooks(
    notebooks: Sequence[Path],
    output_dir: Path,
    lake_root: Path,
    *,
    data_dir: Path | None = None,
    cwd: Path | None = None,
) -> list[NotebookRun]:
    """Execute each notebook against the lake at ``lake_root``; a failure does not stop the rest."""
    env = kernel_env(lake_root, data_dir)
    return [execute(nb, output_dir / nb.name, env, cwd=cwd) for nb in notebooks]


def _summary(runs: list[NotebookRun], lake: Path, lake_note: str) -> None:
    rows: list[tuple[str, str]] = [("lake", f"{lake} ({lake_note})")]
    for run in runs:
        status = "ok" if run.ok else f"FAILED, {run.error}"
        rows.append((run.name, f"{run.seconds:.1f}s, {status}"))
    if runs:
        rows.append(("executed copies", str(runs[0].output.parent)))
    console.summary("notebooks", rows)


@click.command("notebooks")
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/notebooks"),
    show_default=True,
    help="Folder for the executed copies.",
)
@click.option(
    "--lake",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Use this existing lake root instead of building a small fresh one.",
)
@click.option(
    "--keep", is_flag=True, help="Keep the temporary lake (and study) and print where it is."
)
@click.option(
    "--notebooks",
    "notebooks_folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder of notebooks to run (default: the checkout's notebooks/).",
)
def cli(output_dir: Path, lake: Path | None, keep: bool, notebooks_folder: Path | None) -> None:
    """Execute the notebooks against a freshly simulated small lake (or --lake)."""
    try:
        notebooks = find_notebooks(notebooks_folder or notebooks_dir())
        if lake is not None and keep:
            raise ValidationError("--keep applies to the temporary lake; --lake is never deleted")
        temp: Path | None = None
        if lake is not None:
            layout = LakeLayout(root=lake)
            if not layout.table.exists():
                raise ValidationError(
                    f"no joined_fish_data table under {lake}: simulate an evening into it first "
                    f"(`zfish --lake {lake} simulate --day 2025-05-20`) or leave out --lake"
                )
            lake_root, data_dir, note = lake, None, "given"
        else:
            temp = Path(tempfile.mkdtemp(prefix="zfish-notebooks-"))
            console.note(
                f"building a small lake in {temp}: evenings "
                + ", ".join(d.isoformat() for d in DEFAULT_EVENINGS)
            )
            started = time.perf_counter()
            small = _build_and_stop_spark(temp)
            console.note(f"lake ready in {time.perf_counter() - started:.1f}s")
            lake_root, data_dir = small.layout.root, small.data
            note = "temporary, kept" if keep else "temporary, removed afterwards"
        try:
            runs = run_notebooks(notebooks, output_dir, lake_root, data_dir=data_dir)
        finally:
            if temp is not None and not keep:
                shutil.rmtree(temp, ignore_errors=True)
        _summary(runs, lake_root, note)
    except ZfishError as exc:
        console.err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    failed = [run for run in runs if not run.ok]
    if failed:
        for run in failed:
            console.err.print(f"[bold red]error:[/] {run.name}: {run.error}", highlight=False)
        console.note(f"the executed copies up to the failure are in {output_dir}")
        sys.exit(1)


def _build_and_stop_spark(root: Path) -> SmallLake:
    """Build the small lake with one SparkSession, then stop it: the notebooks need no JVM.

    A session that was already running (a caller's) is used and left running.
    """
    from pyspark.sql import SparkSession

    from zfish.spark import get_spark

    existing = SparkSession.getActiveSession()
    spark = get_spark("zfish-notebooks")
    try:
        return build_small_lake(root, spark=spark)
    finally:
        if existing is None:
            spark.stop()


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(
        args=list(argv) if argv is not None else None, prog_name="python -m zfish.ml.notebooks"
    )


if __name__ == "__main__":
    main()
