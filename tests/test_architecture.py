"""The package's layers, read from its imports (docs/architecture.md).

Every import counts, including those inside functions: a function-level import
hides a cycle from Python but not from a reader.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "moderation"

# The packages whose modules serve one audience's pages; nothing below them may
# import from them.
BLUEPRINT_PACKAGES = (
    "moderation.admin",
    "moderation.api",
    "moderation.demo",
    "moderation.embed",
    "moderation.insights",
    "moderation.manage",
    "moderation.queue",
)
# The layer that assembles the app and its commands: it may import anything.
ASSEMBLY = {"moderation", "moderation.commands"}


def _modules():
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _resolve(module, node, names):
    """The package modules one import statement names."""
    package = (
        module if names[module].name == "__init__.py" else module.rpartition(".")[0]
    )
    if isinstance(node, ast.Import):
        bases = [alias.name for alias in node.names]
        members = [None] * len(bases)
    else:
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join(anchor + ([base] if base else []))
        bases = [base] * len(node.names)
        members = [alias.name for alias in node.names]
    targets = set()
    for base, member in zip(bases, members, strict=True):
        if member and f"{base}.{member}" in names:
            targets.add(f"{base}.{member}")
        elif base in names:
            targets.add(base)
    return targets


def import_graph():
    names = _modules()
    graph = {}
    for module, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _resolve(module, node, names)
        graph[module] = edges - {module}
    return graph


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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


def _blueprint_package(module):
    for package in BLUEPRINT_PACKAGES:
        if module == package or module.startswith(package + "."):
            return package
    return None


def upward_imports(graph):
    """Imports into a blueprint package from a module outside it."""
    bad = []
    for module, targets in sorted(graph.items()):
        if module in ASSEMBLY:
            continue
        for target in sorted(targets):
            home = _blueprint_package(target)
            if home and _blueprint_package(module) != home:
                bad.append(f"{module} -> {target}")
    return bad


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # Sanity: the checker reads the package, not an empty directory.
    assert len(graph) > 60
    assert "moderation.extensions" in graph["moderation.comments"]
    assert "moderation.screening.base" in graph["moderation.screening.pipeline"]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_imports_from_another_audiences_blueprint():
    assert upward_imports(import_graph()) == []


def test_the_screening_pipeline_imports_nothing_from_the_web_app():
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("moderation.screening"):
            outside = {t for t in targets if not t.startswith("moderation.screening")}
            assert outside <= {"moderation.config"}, (module, outside)
