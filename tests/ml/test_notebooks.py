"""The committed notebooks: stored without outputs, and they run top to bottom on the small lake."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from zfish.ml.notebooks import SmallLake, cli, find_notebooks, notebooks_dir, run_notebooks

NOTEBOOKS = find_notebooks(notebooks_dir())


def test_both_notebooks_are_committed() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_explore_lake.ipynb", "02_train_model.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    for index, cell in enumerate(code):
        assert cell.outputs == [], f"code cell {index} of {path.name} has outputs"
        assert cell.execution_count is None, f"code cell {index} of {path.name} was executed"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_hold_no_logic(path: Path) -> None:
    """Logic lives in the package: notebooks define no functions, classes or loops of their own."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(ln for ln in cell.source.splitlines() if not ln.startswith("%"))
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.While | ast.Lambda), (
                f"{path.name}: {cell.source[:60]!r} defines logic; move it into zfish"
            )


@pytest.mark.spark
def test_notebooks_run_top_to_bottom_on_the_small_lake(
    small_lake: SmallLake, tmp_path: Path
) -> None:
    runs = run_notebooks(NOTEBOOKS, tmp_path, small_lake.layout.root, data_dir=small_lake.data)
    assert [(r.name, r.error) for r in runs] == [(p.name, None) for p in NOTEBOOKS]
    texts = {}
    for run in runs:
        nb = nbformat.read(run.output, as_version=4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert all(cell.execution_count is not None for cell in code)
        outputs = [o for cell in code for o in cell.outputs]
        assert not [o for o in outputs if o.output_type == "error"]
        figures = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(figures) >= 5, f"{run.name}: only {len(figures)} figures rendered"
        texts[run.name] = "\n".join(
            o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs
        )
    explore, train = texts["01_explore_lake.ipynb"], texts["02_train_model.ipynb"]
    assert "rows added between 2025-05-10 and 2025-06-02: 345" in explore
    assert "rows removed: 0, rows changed: 0" in explore
    # The training notebook shows the default study's result rather than assuming it.
    assert "separating the classes almost perfectly" in train
    assert "no evidence it beats chance" in train
    assert "fish in both sets: none" in train


def _notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


@pytest.mark.spark
def test_cli_names_the_failing_cell_and_exits_non_zero(
    small_lake: SmallLake, tmp_path: Path
) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "a_good.ipynb", "import os", "print(os.environ['ZFISH_LAKE'])")
    _notebook(folder / "b_bad.ipynb", "x = 1", "x / 0", "print('never')")
    output = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "--output",
            str(output),
            "--lake",
            str(small_lake.layout.root),
            "--notebooks",
            str(folder),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "b_bad.ipynb: cell 1 failed: ZeroDivisionError" in result.output
    assert "a_good.ipynb" in result.output
    good = nbformat.read(output / "a_good.ipynb", as_version=4)
    assert good.cells[1].outputs[0].text.strip() == str(small_lake.layout.root.resolve())
    bad = nbformat.read(output / "b_bad.ipynb", as_version=4)
    assert bad.cells[1].outputs[0].output_type == "error"
    assert bad.cells[2].outputs == []


def test_cli_refuses_a_lake_without_the_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--output", str(tmp_path / "out"), "--lake", str(tmp_path / "empty")]
    )
    assert result.exit_code == 2
    assert "no joined_fish_data table" in result.output
    assert not (tmp_path / "out").exists()
