"""docs/hooks/common.py, the module the build hooks share, and what the hooks promise together:
every setting is in one table and documented, and nothing of docs/hooks/ is published."""
from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "docs" / "hooks"

#: TINYCNN_* names in the code that are not settings: a test's own variable.
NOT_SETTINGS = {"TINYCNN_PWNED"}


@pytest.fixture(scope="module")
def common(hook):
    return hook("common")


def test_settings_table_holds_every_tinycnn_environment_variable_the_code_reads(common):
    files = subprocess.run(["git", "ls-files", "*.py", "*.sh", "*.js", "*.yml"], cwd=ROOT,
                           stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.split()
    # Python/JS reads and writes, and shell lines that run a program with the variable set
    pattern = re.compile(r"""(?:environ(?:\.get)?\(?\[?|getenv\(|setenv\(|delenv\(|env\.pop\(|env_setting\()"""
                         r"""\s*["'](TINYCNN_\w+)|^\s*(TINYCNN_\w+)=\S+ \S*python""", re.M)
    used = set()
    for name in files:
        for match in pattern.finditer((ROOT / name).read_text(encoding="utf-8")):
            used.add(match.group(1) or match.group(2))
    assert used >= {"TINYCNN_CELL_CACHE", "TINYCNN_CACHE", "TINYCNN_DATA", "TINYCNN_UNIT_ONLY"}, used
    assert used - NOT_SETTINGS <= set(common.SETTINGS), sorted(used - NOT_SETTINGS - set(common.SETTINGS))


def test_every_setting_is_documented_in_mkdocs_yml_and_contributing(common):
    mkdocs_yml = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for name in common.SETTINGS:
        if name.startswith("TINYCNN_"):
            assert re.search(r"^#.*\b%s\b" % name, mkdocs_yml, re.M), "%s: not in mkdocs.yml's comments" % name
        else:
            assert re.search(r"^    %s: " % name, mkdocs_yml, re.M), "extra.tinycnn.%s: not in mkdocs.yml" % name
        assert re.search(r"^\| `(extra\.tinycnn\.)?%s[`=]" % name, contributing, re.M), \
            "%s: not in CONTRIBUTING.md's settings table" % name


def test_setting_reads_extra_tinycnn_with_the_tables_defaults(common):
    assert common.setting({}, "runtime") == "self-hosted"
    assert common.setting({"extra": {"tinycnn": {"bytecode_cache": False}}}, "bytecode_cache") is False
    with pytest.raises(KeyError, match="not an extra.tinycnn setting"):
        common.setting({}, "TINYCNN_CACHE")
    with pytest.raises(KeyError, match="not a TINYCNN_"):
        common.env_setting("runtime")


def test_cache_dir_follows_tinycnn_cache(common, monkeypatch, tmp_path):
    monkeypatch.setenv("TINYCNN_CACHE", str(tmp_path))
    assert common.cache_dir("wheels", "x") == tmp_path / "wheels" / "x"
    monkeypatch.delenv("TINYCNN_CACHE")
    assert common.cache_dir() == Path.home() / ".cache" / "tinycnn"


def test_hash_files_hashes_relative_names_and_contents(common, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_bytes(b"one")
    (tmp_path / "y.bin").write_bytes(b"\x00two")
    expected = hashlib.sha256(b"a/x.txt\0one\0y.bin\0\x00two\0").hexdigest()
    paths = [tmp_path / "a", tmp_path / "a" / "x.txt", tmp_path / "y.bin", tmp_path / "missing"]
    assert common.hash_files(paths, base=tmp_path).hexdigest() == expected


def test_find_cells_is_the_one_fence_parser(common):
    markdown = "\n".join(["```python", "a = 1", "```", "  ~~~~ python  ", "  b = 2", "  ~~~~",
                          "````markdown", "```python", "inside", "```", "````", "```python norun", "x", "```"])
    cells = common.find_cells(markdown)
    assert [(c.start, c.source) for c in cells] == [(0, "a = 1"), (3, "b = 2")]
    assert [f.is_norun for f in common.fences(markdown.split("\n"))] == [False, False, False, True]
    with pytest.raises(ValueError, match="unclosed code fence '```' opened at line 2"):
        common.find_cells("text\n```python\nx = 1\n")
    hooks = {path.name: path.read_text(encoding="utf-8") for path in HOOKS.glob("*.py")}
    parsers = [name for name, text in hooks.items() if re.search(r"re\.compile\(.*`\{3,\}", text)]
    assert parsers == ["common.py"]


@pytest.mark.site
def test_built_site_holds_no_file_of_docs_hooks(built_site):
    assert not (built_site / "hooks").exists()
    machinery = {path.read_bytes() for path in HOOKS.glob("*.py")}
    sizes = {len(data) for data in machinery}
    shipped = {"assets/tinycnn/cellrunner.py", "assets/tinycnn/worker.py"}  # run by the page
    copies = [path.relative_to(built_site).as_posix() for path in built_site.rglob("*")
              if path.is_file() and path.stat().st_size in sizes and path.read_bytes() in machinery]
    assert sorted(copies) == sorted(shipped)
