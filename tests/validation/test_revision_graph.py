"""The graph as Alembic's RevisionMap sees it, over made-up revisions (no files, no database)."""
from __future__ import annotations

import hashlib
import os

from migration_safety.migration_files.revision_file import Declared, applied_below, cycle, heads
from migration_safety.sources.history import find_drift

# a <- b <- m (merge of b and c), a <- c; d depends on b without being below it
GRAPH = {"a": Declared(), "b": Declared(("a",)), "c": Declared(("a",)), "m": Declared(("b", "c")),
         "d": Declared(("a",), depends_on=("b",))}


def test_heads_merges_and_depends_on():
    assert heads(GRAPH) == ("d", "m")
    assert applied_below(GRAPH, ["d"]) == ["a", "b", "d"]      # an upgrade to d applies b first
    assert applied_below(GRAPH, ["m"]) == ["a", "b", "c", "m"]
    assert cycle(GRAPH) is None


def test_a_cycle_is_alembics_verdict():
    refused = cycle({"a": Declared(("c",)), "b": Declared(("a",)), "c": Declared(("b",)), "z": Declared()})
    assert sorted(refused.revisions) == ["a", "b", "c"]
    assert heads({"a": Declared(("b",)), "b": Declared(("a",))}) is None


def test_drift_follows_depends_on_and_names_missing_files(tmp_path):
    files = {}
    for revision, declared in GRAPH.items():
        path = tmp_path / f"{revision}.py"
        path.write_text(f"revision = {revision!r}\n")
        files[revision] = (str(path), declared)
    recorded = {revision: hashlib.sha256(f"revision = {revision!r}\n".encode()).hexdigest() for revision in GRAPH}
    assert find_drift(["d"], recorded, files) == []
    (tmp_path / "b.py").write_text("revision = 'b'  # edited\n")
    assert [(d.revision, d.problem) for d in find_drift(["d"], recorded, files)] == [("b", "changed")]
    assert [(d.revision, d.problem) for d in find_drift(["c"], recorded, files)] == []   # b is not below c
    del files["a"]
    assert ("a", "missing") in [(d.revision, d.problem) for d in find_drift(["c"], recorded, files)]


def test_the_graph_of_a_project_is_read_from_every_version_location(tmp_path):
    """Drift and graph checks see the revisions of every version location Alembic reads, with
    the lenient reader (a revision whose down_revision is computed is still described)."""
    from migration_safety.sources.project import Project

    for folder in ("first", "second"):
        (tmp_path / folder).mkdir()
    (tmp_path / "env.py").write_text("")
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s\npath_separator = os\n"
        "version_locations = %(here)s/first" + os.pathsep + "%(here)s/second\n"
        "sqlalchemy.url = postgresql://u@localhost/d\n")
    (tmp_path / "first" / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "second" / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (tmp_path / "second" / "c.py").write_text('revision = "c"\ndown_revision = "b" if True else None\n'
                                              'down_revision = compute()\n')
    (tmp_path / "second" / "broken.py").write_text("revision = (\n")

    project = Project.load(str(tmp_path / "alembic.ini"))
    files = project.revision_files()
    assert sorted(files) == ["a", "b", "c"]
    assert files["b"] == (str(tmp_path / "second" / "b.py"), Declared(("a",)))
    assert files["c"][1] == Declared()             # no literal down_revision: described as a root
    assert project.versions_dir == tmp_path / "first"
