"""examples/notebooks/study.ipynb runs clean under nbclient (a kernel of Debian's python3 with this build's anodiff on
its path), draws every figure, and is stored without outputs."""
import os
import time

import nbformat
import pytest

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "examples", "notebooks", "study.ipynb")


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_the_notebook_runs_clean(tmp_path, capsys, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel's debugger note on frozen modules

    if not os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
        pytest.fail("the notebook needs Debian's dataset-fashion-mnist (scripts/install-deps.sh)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[notebook] study.ipynb executed in {seconds:.1f} s")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})]
    assert len(images) == 6, [o.output_type for o in outputs]  # msd, local exponent, bands, per layer, hessian, landscape
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    (tmp_path / "outputs.txt").write_text(text)
    assert "epoch 6" in text and "grid.csv" in text
    assert (tmp_path / "runs" / "notebook" / "landscape" / "grid.csv").exists()
