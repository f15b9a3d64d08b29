"""The Python examples of docs/python.md run as written (each block marked <!-- tested ... -->, in order, in one
fresh folder)."""
import os
import re
import subprocess
import sys

import pytest

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "python.md")


def test_docs_python_examples_run(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    text = open(DOC).read()
    blocks = re.findall(r"<!-- tested[^>]*-->\n```python\n(.*?)```", text, re.S)
    assert len(blocks) == 7
    for i, code in enumerate(blocks):
        r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
        assert r.returncode == 0, f"block {i}:\n{code}\n{r.stderr}"
    assert (tmp_path / "runs" / "mine" / "msd.png").stat().st_size > 10000
    assert (tmp_path / "runs" / "mine" / "analysis" / "fit.csv").exists()
    assert (tmp_path / "runs" / "mine" / "followed" / "fit.csv").exists()
    assert (tmp_path / "runs" / "mine" / "landscape" / "grid.csv").exists()
    for name in ("msd", "beta", "bands", "layers", "landscape"):
        assert (tmp_path / "runs" / "mine" / f"plot_{name}.png").stat().st_size > 10000, name
