"""``\\r`` in printed output is resolved identically by the build's Python (cellrunner.py) and by
the page's live output (runtime.js), on one table of hand-worked cases (carriage_returns.json)."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((Path(__file__).with_name("carriage_returns.json")).read_text(encoding="utf-8"))["cases"]

_spec = importlib.util.spec_from_file_location("cellrunner_cr_under_test", str(ROOT / "docs" / "hooks" / "cellrunner.py"))
cellrunner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cellrunner)


@pytest.mark.parametrize("text, shown", CASES)
def test_python_resolves_carriage_returns_like_a_terminal(text, shown):
    assert cellrunner.resolve_carriage_returns(text) == shown


def runtime_js_function(name: str) -> str:
    """The source of the function ``name`` inside runtime.js (indented two spaces in its IIFE)."""
    source = (ROOT / "docs" / "javascripts" / "runtime.js").read_text(encoding="utf-8")
    match = re.search(r"^  function %s\(.*?^  }$" % re.escape(name), source, re.M | re.S)
    assert match, "runtime.js defines no function %s" % name
    return match.group(0)


@pytest.mark.site  # needs Node.js, like the site build
def test_javascript_resolves_carriage_returns_like_python():
    node = shutil.which("node")
    assert node, "Node.js is needed (the site build uses it too): apt-get install -y nodejs"
    script = (runtime_js_function("resolveCarriageReturns") + "\n"
              "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
              "process.stdout.write(JSON.stringify(cases.map(([text]) => resolveCarriageReturns(text))));\n")
    proc = subprocess.run([node, "-e", script], input=json.dumps(CASES), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [shown for _, shown in CASES]
