"""Every notebook runs top to bottom (small settings) and is committed without outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
KERNEL = "mutualsim-test"
SMALL = {"MUTUALSIM_NB_REPLICATIONS": "20", "MUTUALSIM_NB_COUNCILS": "20",
         "MUTUALSIM_NB_YEARS": "16"}


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernel spec that runs this interpreter, whatever ``python`` is on PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mutualsim test", "language": "python"}))
    return root


def test_the_shipped_notebooks_are_all_here():
    assert {p.name for p in NOTEBOOKS} == {
        "survival_curves_from_a_sweep.ipynb", "workshop_protection_and_incubation.ipynb",
        "income_diversification.ipynb", "sensitivity_and_calibration.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name
    first = next(c for c in book.cells if c.cell_type == "code")
    assert "MUTUALSIM_NB_REPLICATIONS" in first.source


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_dir, tmp_path, monkeypatch):
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(book, kernel_name=KERNEL, timeout=300,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    images = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no figure"
