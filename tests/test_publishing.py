"""The GitHub Pages workflow: valid against GitHub's workflow schema, and it tests before it deploys.

Oracle: the workflow JSON schema shipped inside check-jsonschema (``--builtin-schema
vendor.github-workflows``, offline), which must also reject a broken copy of the workflow.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def test_pages_workflow_is_valid_against_the_workflow_schema():
    result = check_jsonschema(WORKFLOW)
    assert result.returncode == 0, result.stdout
    assert "ok -- validation done" in result.stdout


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "pages.yml"  # a job without `runs-on` is not a valid workflow
    broken.write_text(WORKFLOW.read_text().replace("    runs-on: ubuntu-24.04\n    timeout-minutes", "    timeout-minutes", 1))
    assert broken.read_text() != WORKFLOW.read_text()
    result = check_jsonschema(broken)
    assert result.returncode != 0, result.stdout


def test_pages_workflow_runs_the_tests_then_deploys_the_site_built_for_its_address():
    import yaml  # PyYAML, a dependency of MkDocs
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = workflow["jobs"]["test-and-build"], workflow["jobs"]["deploy"]
    steps = build["steps"]
    runs = [step.get("run", "") for step in steps]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    test_step = runs.index("bash scripts/test.sh")
    build_step = next(i for i, step in enumerate(steps) if "mkdocs build" in step.get("run", ""))
    upload_step = uses.index("actions/upload-pages-artifact")
    assert test_step < build_step < upload_step
    assert steps[build_step]["env"]["SITE_URL"] == "${{ steps.pages.outputs.base_url }}/"
    assert steps[upload_step]["with"]["path"] == "site"
    assert deploy["needs"] == "test-and-build"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
