"""The README and the documentation site: commands kept, links resolve, every page in the site."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def nav_files(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [f for item in node for f in nav_files(item)]
    if isinstance(node, dict):
        return [f for v in node.values() for f in nav_files(v)]
    return []


def test_readme_starts_with_the_two_commands() -> None:
    lines = README.splitlines()
    assert lines[2] == "```bash"
    assert lines[3].endswith("pip install . && lbconvert convert fixtures/sample/instances.json -o sample.ndjson")
    assert lines[4].endswith('pip install -e ".[dev]" && python -m pytest')


def test_readme_says_how_the_import_name_relates_to_the_distribution() -> None:
    assert "`labelbox-converters`" in README and "`import converters`" in README


@pytest.mark.parametrize("target", sorted(set(re.findall(r"\]\(([^)#:]+)\)", README))))
def test_readme_links_resolve(target: str) -> None:
    assert (ROOT / target).exists(), target


def test_every_docs_page_is_in_the_site_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(nav_files(config["nav"]))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - in_nav == set(), "add these pages to the nav in mkdocs.yml (else the site hides them)"
    assert in_nav - pages == set(), "mkdocs.yml names pages that do not exist"


def test_snippets_name_existing_files() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        for target in re.findall(r'--8<-- "([^":]+)', page.read_text(encoding="utf-8")):
            assert (ROOT / target).is_file(), f"{page}: {target}"


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (CI builds the site in its own step)")
    pytest.importorskip("material", reason="the docs extra is not installed")
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or "mkdocs"
    proc = subprocess.run([mkdocs, "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"}, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8").count("doc-heading") > 10
