"""The teaching notebooks run top to bottom (in their quick mode), and are committed without outputs."""

import glob
import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_there_are_at_least_four_notebooks():
    assert len(NOTEBOOKS) >= 4


def test_the_claims_notebook_runs_every_registered_experiment_in_quick_mode():
    from neurosim import experiments

    path = os.path.join(ROOT, "notebooks", "04_textbook_claims_tested.ipynb")
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert "for name in experiments.names():" in code and "run_experiment(name, quick=True" in code
    assert {"vanishing_gradients", "long_range_memory", "overfitting_dropout", "spikes_versus_rates"} <= set(
        experiments.names())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_is_stripped(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path}: outputs are not stripped"


@pytest.mark.brian2
@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, monkeypatch, cache):
    monkeypatch.setenv("NEUROSIM_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": os.path.dirname(path)}})
    client.execute()  # raises CellExecutionError, with the failing cell and its traceback, on any error
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
