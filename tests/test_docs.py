"""The documentation: the MkDocs site builds strictly (a broken link, a missing anchor or a page
left out of the nav fails), the README stays a front door whose links resolve, and the exit codes
it shows are the ones the failure page shows."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

from harness import REPO_ROOT

README = REPO_ROOT / "README.md"


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], capture_output=True, text=True, timeout=300)


def test_the_site_builds_strictly(tmp_path):
    result = build(REPO_ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    built = {path.relative_to(tmp_path / "site").as_posix() for path in (tmp_path / "site").rglob("*.html")}
    for page in ("index.html", "commands/index.html", "backups/index.html", "rules/index.html",
                 "failures/index.html", "contributing/index.html"):
        assert page in built


@pytest.fixture
def docs_copy(tmp_path) -> Path:
    shutil.copytree(REPO_ROOT / "docs", tmp_path / "docs")
    shutil.copy2(REPO_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    return tmp_path


@pytest.mark.parametrize("damage, complaint", [
    ("link", "commands-renamed.md"),
    ("anchor", "#no-such-section"),
    ("page outside the nav", "orphan.md"),
])
def test_the_strict_build_refuses_a_broken_site(docs_copy, damage, complaint):
    """The build the first test runs would notice: each kind of breakage fails it."""
    page = docs_copy / "docs" / "backups.md"
    if damage == "link":
        page.write_text(page.read_text() + "\nSee [the commands](commands-renamed.md).\n")
    elif damage == "anchor":
        page.write_text(page.read_text() + "\nSee [nothing](commands.md#no-such-section).\n")
    else:
        (docs_copy / "docs" / "orphan.md").write_text("# Orphan\n")
    result = build(docs_copy / "mkdocs.yml", docs_copy / "site")
    assert result.returncode != 0 and complaint in result.stderr, result.stderr


def _anchors(page: Path) -> set:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return {slugify(heading.strip(), "-") for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def test_the_readme_is_a_front_door_whose_links_resolve():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    for section in ("## Two commands", "## A five-minute tour", "## Exit codes", "## Documentation"):
        assert section in text
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        if re.match(r"[a-z]+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = REPO_ROOT / path if path else README
        assert target.exists(), f"README links to {link}, which does not exist"
        if anchor:
            assert anchor in _anchors(target), f"README links to {link}: no such heading"
    # every page of the site is reachable from the front door
    for page in (REPO_ROOT / "docs").glob("*.md"):
        assert f"docs/{page.name}" in links, f"README does not link docs/{page.name}"


def _exit_code_table(text: str) -> list:
    start = text.index("| code | meaning |")
    return [line for line in text[start:].splitlines() if line.startswith("|")][:7]


def test_the_readme_and_the_failure_page_show_the_same_exit_codes():
    readme = _exit_code_table(README.read_text())
    assert [row.split("|")[1].strip() for row in readme[2:]] == ["0", "1", "2", "3", "4"]
    assert readme == _exit_code_table((REPO_ROOT / "docs" / "failures.md").read_text())


def test_the_quickstart_and_the_test_command_the_readme_gives_exist():
    text = README.read_text()
    for script in ("scripts/quickstart.sh", "scripts/run_tests.sh"):
        assert f"./{script}" in text and (REPO_ROOT / script).stat().st_mode & 0o111
    assert 'eval "$(python scripts/local_postgres.py env)"' in text
    assert "./scripts/run_tests.sh" in (REPO_ROOT / ".ci" / "run").read_text()


def test_the_prepared_shell_reaches_the_database_with_the_stock_tools_too():
    """`local_postgres.py env` is what the README evals: psql and pg_restore in that shell read
    libpq's PG* variables, so they must carry the same values as POSTGRES_* (a password with
    shell and URL characters included)."""
    import local_postgres

    exported = local_postgres.exports({"port": 54321, "password": "s3cr'@t $x"})
    shown = subprocess.run(["bash", "-c", 'eval "$1"; printf "%s|" "$PGHOST" "$PGPORT" "$PGDATABASE" "$PGUSER" '
                            '"$PGPASSWORD" "$POSTGRES_PORT" "$POSTGRES_PASSWORD"', "bash", exported],
                           capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    assert shown.split("|")[:-1] == ["127.0.0.1", "54321", local_postgres.APP_DATABASE, local_postgres.APP_ROLE,
                                     "s3cr'@t $x", "54321", "s3cr'@t $x"]
