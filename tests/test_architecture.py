"""The package's wings and the one direction imports may run in, read from the code with ``ast``
(every import counts, also those inside functions).

    face, service > commands (commands.py, api.py) > fleet > run > backup, sources > validation
        > migration_files > postgres > config > base

A module may import its own wing and any wing below it, never one above; no two modules may
import each other, however long the way round."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "migration_safety"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "migrations" / PACKAGE

LEVELS = {"face": 10, "service": 10, "commands": 9, "fleet": 8, "run": 7, "backup": 6, "sources": 6, "validation": 5,
          "migration_files": 4, "postgres": 3, "config": 2, "base": 1}
# Top-level modules that are wings of their own
WING_OF_MODULE = {"commands": "commands", "api": "commands", "": "base"}
# Peers that may import each other: the CLI starts the HTTP service, the service answers with the
# face's JSON documents. Module-level cycles between them are still refused below.
PEERS = {("face", "service"), ("service", "face")}
# Imports the levels would allow but the design does not.
FORBIDDEN = {
    ("validation", "postgres"): "validation takes live facts as data and never imports the connection layer",
    ("postgres", "config.discovery"): "the PostgreSQL tools know nothing of projects",
    ("backup", "sources"): "backups are of databases, not of migration projects",
    ("sources", "backup"): "a source plans and runs migrations; the run decides about backups",
}


def wing(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return WING_OF_MODULE[""]
    return WING_OF_MODULE.get(parts[0], parts[0])


def read_modules(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = (PACKAGE,) + path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def read_imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a name imported from a package counts as that
    package's module when there is one of that name)."""
    graph = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    name = ".".join(base + ([node.module] if node.module else []))
                else:
                    name = node.module or ""
                for alias in node.names:
                    found.add(f"{name}.{alias.name}" if f"{name}.{alias.name}" in modules else name)
        graph[module] = {name for name in found if name in modules and name != module}
    return graph


def direction_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, imported in sorted(graph.items()):
        here = wing(module)
        for target in sorted(imported):
            there = wing(target)
            short = target[len(PACKAGE) + 1:]
            for (source_wing, forbidden), why in FORBIDDEN.items():
                if here == source_wing and (short == forbidden or short.startswith(forbidden + ".")
                                            or there == forbidden):
                    problems.append(f"{module} imports {target}: {why}")
            if here == there or (here, there) in PEERS:
                continue
            if LEVELS[there] >= LEVELS[here]:
                problems.append(f"{module} ({here}) imports {target} ({there}): {there} is not below {here}")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_belongs_to_a_wing():
    unknown = sorted(module for module in read_modules() if wing(module) not in LEVELS)
    assert unknown == [], f"modules outside the wings (add the wing to LEVELS): {unknown}"


def test_imports_run_one_way():
    problems = direction_violations(read_imports(read_modules()))
    assert problems == [], "imports against the direction:\n" + "\n".join(problems)


def test_no_import_cycles():
    found = cycles(read_imports(read_modules()))
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(component) for component in found)


def test_the_checks_see_what_they_are_for(tmp_path):
    """The reader and both checks on a small made-up package: an upward import, a forbidden one,
    a relative import inside a function and a cycle are all reported."""
    root = tmp_path / PACKAGE
    for folder in ("base", "postgres", "validation", "run"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "base" / "errors.py").write_text("def f():\n    from ..run import pipeline\n")
    (root / "run" / "pipeline.py").write_text("from ..base.errors import f\n")
    (root / "validation" / "live.py").write_text("from ..postgres import tools\n")
    (root / "postgres" / "tools.py").write_text("")
    graph = read_imports(read_modules(root))
    assert graph[f"{PACKAGE}.base.errors"] == {f"{PACKAGE}.run.pipeline"}
    problems = direction_violations(graph)
    assert any("base.errors" in p and "run is not below base" in p for p in problems)
    assert any("validation.live" in p and "live facts as data" in p for p in problems)
    assert cycles(graph) == [[f"{PACKAGE}.base.errors", f"{PACKAGE}.run.pipeline"]]
