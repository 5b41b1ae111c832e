"""Every shell example marked runnable in README.md and docs/ runs here, in the shell the README
prepares, and its output is compared with the page's where the page shows one (docs/contributing.md
describes the markers).

Each page gets its own prepared shell, as a reader who follows the page has: a throwaway database
of the suite's cluster, the variables `scripts/local_postgres.py env` exports for it, the project's
virtualenv first on PATH, and as current directory a copy of the checkout (backups go to a
directory inside that copy, never into the repository). The quickstart's own commands have run
first, so a page starts where `scripts/quickstart.sh` leaves a reader. The examples of a page run in
their order, each one after the ones above it, as the reader types them.

`DOC_EXAMPLES_RECORD=1` writes what the tool printed into the pages' output blocks instead of
comparing: sample outputs come from the tool, never typed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import REPO_ROOT, new_database
import local_postgres

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
RUNNABLE = re.compile(r"^<!--\s*runnable(?P<options>[^>]*?)\s*-->", re.M)
OUTPUT = re.compile(r"<!--\s*output\s*-->")
FENCE = re.compile(r"^(?P<fence>```+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.S | re.M)
# What a reader's sample was recorded as, in place of the test's throwaway names (record mode).
CANONICAL_ROOT = "/home/you/migration-safety"
RECORD = os.environ.get("DOC_EXAMPLES_RECORD") == "1"


@dataclass
class Example:
    page: Path
    line: int
    script: str
    exit_code: int
    output: str | None            # the page's output block, None when it shows none
    output_span: tuple | None     # where that block's body is in the page (record mode)

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO_ROOT)}:{self.line}"


def _blocks_after(text: str, position: int):
    """The fenced block that starts right after ``position`` (only blank lines between)."""
    match = FENCE.search(text, position)
    if match is None or text[position:match.start()].strip():
        return None
    return match


def examples_of(page: Path) -> list:
    text = page.read_text()
    found = []
    # a marker quoted inside a fenced block (the contributing page shows one) is not a marker
    quoted = [block.span() for block in FENCE.finditer(text)]
    for marker in RUNNABLE.finditer(text):
        if any(start <= marker.start() < end for start, end in quoted):
            continue
        block = _blocks_after(text, marker.end())
        line = text.count("\n", 0, marker.start()) + 1
        assert block is not None, f"{page.name}:{line}: a runnable marker must be followed by a fenced block"
        assert block.group("info").strip() in ("bash", "sh", "console"), \
            f"{page.name}:{line}: a runnable block is a bash block, not {block.group('info')!r}"
        options = marker.group("options").split()
        exit_code = 0
        if options:
            assert len(options) == 2 and options[0] == "exit" and options[1].isdigit(), \
                f"{page.name}:{line}: the only option is `exit N`, not {options}"
            exit_code = int(options[1])
        output = span = None
        rest = text[block.end():]
        stripped = len(rest) - len(rest.lstrip())
        following = OUTPUT.match(text, block.end() + stripped)
        if following:
            shown = _blocks_after(text, following.end())
            assert shown is not None, f"{page.name}:{line}: an output marker must be followed by a fenced block"
            output, span = shown.group("body"), (shown.start("body"), shown.end("body"))
        found.append(Example(page, line, block.group("body"), exit_code, output, span))
    return found


EXAMPLES = [example for page in PAGES for example in examples_of(page)]


# -- masking: what legitimately differs between two runs of the same example ---------------------
MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?"), "<TIME>"),
    (re.compile(r"\d{8}_\d{6}(?:_\d+)?"), "<STAMP>"),   # a second backup in the same second gets _2
    (re.compile(r"^\d+; \d+ \d+ ", re.M), "<ENTRY> "),          # pg_restore --list: dump id; catalog oid
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<DATE>"),
    (re.compile(r"\d{2}:\d{2}:\d{2}"), "<TIME>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:B|KB|kB|MB|GB|TB|bytes)\b"), "<SIZE>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|h|min)\b"), "<DURATION>"),
    (re.compile(r'"(pid|bytes|[a-z_]+_bytes)": \d+'), r'"\1": <NUMBER>'),   # the structured log's JSON
    (re.compile(r"\b[0-9a-f]{12,}\b"), "<HEX>"),                 # SHA-256, revision ids, run ids
    (re.compile(r"\b\d{5,}\b"), "<NUMBER>"),                   # ports, OIDs, system identifiers
    (re.compile(r"\b\d+\.\d+(?:\.\d+)?\b"), "<VERSION>"),            # PostgreSQL 15.18, zstd 1.5.4
    (re.compile(r"\bby [\w.-]+@[\w.-]+"), "by <WHO>"),
    (re.compile(r"(?<![\w.<])/(?:[\w.@+-]+/)*[\w.@+-]+/?"), "<PATH>"),
]


def mask(text: str) -> list:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    # table columns are as wide as their widest (masked) cell: compare the cells, not the padding
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


# -- the prepared shell ---------------------------------------------------------------------------
@dataclass
class PageShell:
    directory: Path
    checkout: Path
    database: object
    environment: dict
    done: list = field(default_factory=list)

    def canonical(self, text: str) -> str:
        """The output as a reader's shell would show it: the checkout's path, database and role
        the README's shell has, instead of the test's throwaway ones."""
        for actual, shown in ((str(self.checkout), CANONICAL_ROOT), (self.database.name, local_postgres.APP_DATABASE),
                              (self.database.user, local_postgres.APP_ROLE)):
            text = re.sub(rf"(?<!\w){re.escape(actual)}(?!\w)( *)", _replacing(actual, shown), text)
        return text

    def run(self, script: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=self.checkout,
                              env=self.environment, capture_output=True, text=True, timeout=300)


def _replacing(actual: str, shown: str):
    """A replacement that keeps a table's columns aligned: the padding after a cell absorbs the
    difference in length."""
    def replace(match):
        padding = match.group(1)
        if not padding:
            return shown
        return shown + " " * max(1, len(padding) + len(actual) - len(shown))
    return replace


def _copy_checkout(destination: Path) -> Path:
    """The checkout as a reader has it, without the repository's history, its local database,
    backups or the test suite (the SQL folder examples and the validator's corpus are kept)."""
    skip = {".git", ".venv", ".pgdata", "tests", "docs", "benchmark_results", "build", ".pytest_cache"}
    destination.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for entry in REPO_ROOT.iterdir():
        if entry.name in skip:
            continue
        if entry.is_dir():
            shutil.copytree(entry, destination / entry.name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(entry, destination / entry.name)
    for kept in ("sql_folders", "validation/corpus"):       # what the examples run on
        shutil.copytree(REPO_ROOT / "tests" / kept, destination / "tests" / kept, ignore=ignore)
    backups = destination / "migrations" / "backups"
    shutil.rmtree(backups, ignore_errors=True)
    backups.mkdir(mode=0o700)
    # `.venv/bin/python` and `source .venv/bin/activate` in the examples: the suite's virtualenv
    (destination / ".venv").symlink_to(Path(sys.prefix))
    return destination


def _quickstart_commands() -> str:
    """The quickstart's own CLI calls (the upgrade and status a reader's database has seen)."""
    lines = [line for line in (REPO_ROOT / "scripts" / "quickstart.sh").read_text().splitlines()
             if "migrations/migration_utils.py" in line and not line.lstrip().startswith(("#", "echo"))]
    assert lines, "scripts/quickstart.sh no longer runs the CLI: the doc examples' starting point is gone"
    return "\n".join(line.replace('"$PY"', "python") for line in lines)


@pytest.fixture(scope="module")
def shells(pg_cluster):
    opened: dict = {}

    def shell_for(page: Path) -> PageShell:
        if page in opened:
            return opened[page]
        directory = Path(tempfile.mkdtemp(prefix="doc_examples_"))
        checkout = _copy_checkout(directory / "migration-safety")
        database = new_database(pg_cluster)
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("POSTGRES_", "PG", "MIGRATION_", "VIRTUAL_ENV")) and k != "DATABASE_URL"}
        environment.update(local_postgres.shell_environment(database.host, database.port, database.name,
                                                            database.user, database.password))
        venv_bin = str(checkout / ".venv" / "bin")
        environment.update(VIRTUAL_ENV=str(checkout / ".venv"), PATH=venv_bin + os.pathsep + environment["PATH"],
                           MIGRATION_BACKUP_DIR=str(checkout / "migrations" / "backups"),
                           XDG_CACHE_HOME=str(directory / "cache"))
        shell = PageShell(directory, checkout, database, environment)
        opened[page] = shell
        started = shell.run(_quickstart_commands())
        assert started.returncode == 0, f"the quickstart's commands failed:\n{started.stdout}\n{started.stderr}"
        return shell

    yield shell_for
    for shell in opened.values():
        # the examples may create databases next to the page's (`createdb "${PGDATABASE}_inspect"`)
        connection = pg_cluster.admin_connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                               (shell.database.name.replace("_", r"\_") + "%",))
                names = [row[0] for row in cursor.fetchall()]
        finally:
            connection.close()
        for name in names:
            pg_cluster.drop_database(name)
        shutil.rmtree(shell.directory, ignore_errors=True)


def _report(example: Example, result: subprocess.CompletedProcess) -> str:
    return (f"{example.id}: exit {result.returncode}\n--- the block\n{example.script}"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")


_recorded_shift: dict = {}


def _record(example: Example, printed: str) -> None:
    """Put ``printed`` into the page's output block (the blocks above it may have changed length)."""
    text = example.page.read_text()
    shift = _recorded_shift.get(example.page, 0)
    start, end = example.output_span[0] + shift, example.output_span[1] + shift
    assert text[start:end] == example.output, f"{example.id}: the page changed while recording"
    shown = printed if printed.endswith("\n") or not printed else printed + "\n"
    example.page.write_text(text[:start] + shown + text[end:])
    _recorded_shift[example.page] = shift + len(shown) - (end - start)


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_documented_example_runs_and_prints_what_the_page_shows(example, shells):
    shell = shells(example.page)
    index = EXAMPLES.index(example)
    # the examples above this one on the page, as the reader ran them (when this one runs alone)
    for earlier in EXAMPLES[:index]:
        if earlier.page == example.page and earlier.id not in shell.done:
            result = shell.run(earlier.script)
            assert result.returncode == earlier.exit_code, "an earlier example failed: " + _report(earlier, result)
            shell.done.append(earlier.id)
    result = shell.run(example.script)
    shell.done.append(example.id)
    assert result.returncode == example.exit_code, _report(example, result)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, _report(example, result)
    assert shell.database.password not in result.stdout + result.stderr, f"{example.id} printed the password"
    if example.output is None:
        return
    printed = shell.canonical(result.stdout)
    if RECORD:
        _record(example, printed)
        return
    assert mask(printed) == mask(example.output), (
        f"{example.id}: the output differs from the page's (masked: times, sizes, paths, hashes)\n"
        f"--- the page shows\n{example.output}--- the tool printed\n{printed}")


def test_the_pages_mark_the_examples_the_issue_names():
    """The tour, validate, status, upgrade --dry-run, backups list and the recovery by hand are
    runnable: these are the samples a reader copies first."""
    scripts = "\n".join(example.script for example in EXAMPLES)
    for command in ("migration_utils.py validate", "migration_utils.py status", "upgrade --dry-run",
                    "backups list", "pg_restore --list", "createdb"):
        assert command in scripts, f"no runnable example runs {command!r}"
    readme = [example for example in EXAMPLES if example.page.name == "README.md"]
    assert len(readme) >= 5 and all(example.output is not None for example in readme[:3])


def test_masking_keeps_what_matters_and_drops_what_varies():
    shown = "backup_20261124_154217.dump.zst  2026-11-24T15:42:17+00:00  fataplus_dev  003  10.4 KB  yes  0.1 h"
    later = "backup_20261206_021405.dump.zst     2026-12-06T02:14:05+00:00  fataplus_dev  003  3.6 KB   yes  0.0 h"
    assert mask(shown) == mask(later)
    assert mask(shown) != mask(later.replace(" 003 ", " 002 "))
    assert mask(shown) != mask(later.replace("yes", "no (unsigned)"))
    assert mask("Backups in /tmp/x/migrations/backups") == mask("Backups in /home/you/migration-safety/migrations/backups")
