"""Alembic's own ``RevisionMap`` over revisions read with ``ast`` (never imported), so the graph
checks and the drift walk see the graph exactly as an upgrade does: heads, merges, ``depends_on``
and branch labels included. Pure: made-up revisions test it.

References to revisions no file declares are left out of the map (Alembic would stop at the
first with a bare KeyError); callers report them themselves (unknown-down-revision, drift's
"missing")."""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from typing import Iterable, Optional


@dataclass(frozen=True)
class Declared:
    """What one revision file states about its place in the graph."""
    downs: tuple = ()
    depends_on: tuple = ()
    branch_labels: tuple = ()


def as_tuple(value) -> tuple:
    """A down_revision / depends_on / branch_labels value as the file states it, as a tuple."""
    if value is None or value == "<missing>":
        return ()
    if isinstance(value, (tuple, list)):
        return tuple(v for v in value if isinstance(v, str))
    return (value,) if isinstance(value, str) else ()


def alembic_revision_module():
    """``alembic.script.revision``, entered where every other caller enters Alembic's import cycle
    (``alembic.config``): two threads of the service entering it at different modules at once see
    a partially initialised module (ImportError)."""
    import alembic.config  # noqa: F401
    from alembic.script import revision

    return revision


def revision_map(declared: dict):
    """The RevisionMap of ``declared`` (revision id -> Declared), references to undeclared
    revisions dropped. Building it (any property) raises Alembic's CycleDetected for a cycle."""
    revision_module = alembic_revision_module()
    Revision, RevisionMap = revision_module.Revision, revision_module.RevisionMap
    labels = {label for entry in declared.values() for label in entry.branch_labels}

    def revisions():
        for revision, entry in declared.items():
            downs = tuple(d for d in entry.downs if d in declared)
            depends = tuple(d for d in entry.depends_on if d in declared or d in labels)
            yield Revision(revision, downs or None, dependencies=depends or None,
                           branch_labels=entry.branch_labels or None)

    return RevisionMap(revisions)


def heads(declared: dict) -> Optional[tuple]:
    """The heads as Alembic computes them; None when it cannot build the graph (a cycle)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple(sorted(revision_map(declared).heads))
    except alembic_revision_module().RevisionError:
        return None


def cycle(declared: dict):
    """Alembic's CycleDetected (a cycle or self-loop of down revisions or of depends_on; its
    ``kind`` and ``revisions`` say which) when it refuses the graph; None when it accepts it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            revision_map(declared).heads
    except alembic_revision_module().CycleDetected as exc:
        return exc
    return None


def applied_below(declared: dict, current: Iterable[str]) -> list:
    """``current`` (the database's heads) and every revision an upgrade counts as applied below
    them — down revisions and depends_on, as Alembic's upgrade plan does — that a file declares.
    Raises CycleDetected for a cyclic graph."""
    revision_map_ = revision_map(declared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        targets = revision_map_.get_revisions(tuple(r for r in current if r in declared))
        return sorted(revision.revision for revision in revision_map_._get_ancestor_nodes(targets))


class NotDeclarative(ValueError):
    """A revision file whose place in the graph ``ast`` cannot vouch for: only importing it, as
    Alembic does, tells (a revision id computed at run time, a syntax error, a conditional
    assignment). The message says which file and why."""


_GRAPH_NAMES = ("revision", "down_revision", "depends_on", "branch_labels")


@dataclass(frozen=True)
class RevisionFile:
    """What importing a revision file would give Alembic, read with ``ast``: the four names with
    the values the module would hold (as written: a string, None, a tuple or list of strings) and
    the module's docstring (``__doc__``; "" when it has none)."""
    revision: str
    down_revision: object
    depends_on: object = None
    branch_labels: object = None
    docstring: str = ""


def read_revision_file(path, *, strict: bool = True) -> Optional[RevisionFile]:
    """The declarations of the revision file at ``path``, read with ``ast`` (never imported).

    ``strict`` (planning: what Alembic would see when it imports the file): NotDeclarative unless
    each of the four names is bound at module level by one plain assignment of a literal (or by
    several of the same literal)
    (``revision`` a string, the others None, a string, or a tuple or list of strings) and by nothing
    else — no other assignment, import, ``global`` or star import that could change it when the
    module runs. ``revision`` and ``down_revision`` must be there, as Alembic requires them.

    Not ``strict`` (describing a graph that may be broken: drift, graph checks): the last literal
    assignment of each name wins and anything else is skipped; None when the file cannot be parsed
    or declares no revision string."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), filename=str(path))
    except (SyntaxError, ValueError, OSError) as exc:
        if not strict:
            return None
        raise NotDeclarative(f"{path}: cannot be parsed ({type(exc).__name__})") from None
    values: dict = {}
    for statement in tree.body:
        name = assigned_graph_name(statement)
        if name is not None:
            try:
                value = ast.literal_eval(statement.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                if strict:
                    raise NotDeclarative(f"{path}: {name} is not a literal") from None
                continue
            # the same literal twice (Langflow's 58b28437a398: an annotated down_revision, then the
            # plain one of an older template) binds what once does; two values: not vouched for
            if name in values and strict and values[name] != value:
                raise NotDeclarative(f"{path}: {name} is assigned more than once")
            values[name] = value
            if strict:
                _refuse_other_bindings(path, statement.value)
            continue
        if strict:
            _refuse_other_bindings(path, statement)
    if not isinstance(values.get("revision"), str):
        if not strict:
            return None
        raise NotDeclarative(f"{path}: no revision string")
    if strict:
        if "down_revision" not in values:
            raise NotDeclarative(f"{path}: no down_revision")
        for name in _GRAPH_NAMES[1:]:
            value = values.get(name)
            if not (value is None or isinstance(value, str)
                    or isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value)):
                raise NotDeclarative(f"{path}: {name} is neither None, a string nor strings")
    return RevisionFile(values["revision"], values.get("down_revision"), values.get("depends_on"),
                        values.get("branch_labels"), ast.get_docstring(tree, clean=False) or "")


def assigned_graph_name(statement) -> Optional[str]:
    """The graph name (revision, down_revision, depends_on, branch_labels) a module-level
    statement assigns by one plain assignment (``x = ...`` or ``x: T = ...``), else None."""
    if isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target = statement.target
    elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
    else:
        return None
    return target.id if isinstance(target, ast.Name) and target.id in _GRAPH_NAMES else None


def _refuse_other_bindings(path, statement) -> None:
    """NotDeclarative when ``statement`` (at module level) could bind one of the graph names when
    the module runs: an assignment in any form, an import, a function or class of that name,
    ``global`` in a function, a star import or a module ``__getattr__``."""
    bound = set(_module_bindings(statement, at_module_level=True))
    if "*" in bound:
        raise NotDeclarative(f"{path}: a star import may bind the revision")
    if "__getattr__" in bound:
        raise NotDeclarative(f"{path}: a module __getattr__ may answer for the revision")
    clash = sorted(bound.intersection(_GRAPH_NAMES))
    if clash:
        raise NotDeclarative(f"{path}: {clash[0]} is bound by more than one plain assignment")


def _module_bindings(node, at_module_level: bool):
    """The names ``node`` may bind in the module's namespace ("*" for a star import). Inside a
    function or class body only ``global`` reaches the module; its other assignments are local."""
    if isinstance(node, ast.Global):
        yield from node.names
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        if at_module_level and not isinstance(node, ast.Lambda):
            yield node.name
        for child in ast.iter_child_nodes(node):
            yield from _module_bindings(child, at_module_level=False)
        return
    if at_module_level:
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            yield node.id
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                yield alias.asname or alias.name.split(".")[0]
    for child in ast.iter_child_nodes(node):
        yield from _module_bindings(child, at_module_level)
