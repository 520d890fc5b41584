"""The package's layers, read from its imports (docs/architecture.md).

From the bottom: plumbing (the top-level modules), screening/, services/, reader/,
notify/ (mail and webhooks, told of changes by the services' signals), then the
blueprint packages, one per audience; commands/ and create_app() assemble them.
A layer imports only from layers below it. Every import counts, including those
inside functions: a function-level import hides a cycle from Python but not from
a reader.
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
# What assembles the app: it may import anything.
ASSEMBLY = {"moderation", "moderation.commands", "moderation.errorhandlers"}
# Each layer and the layers it may import from (besides itself).
BELOW = {
    "plumbing": {"screening"},
    "screening": set(),
    "services": {"plumbing", "screening"},
    "reader": {"plumbing", "screening", "services"},
    "notify": {"plumbing", "screening", "services"},
}


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


def layer(module):
    """plumbing, screening, services, reader, notify, commands or blueprint."""
    parts = module.split(".")
    named = ("screening", "services", "reader", "notify", "commands")
    if len(parts) >= 2 and parts[1] in named:
        return parts[1]
    if len(parts) == 2 and ".".join(parts) not in BLUEPRINT_PACKAGES:
        return "plumbing"
    return "blueprint"


def layer_violations(graph):
    """Imports from a lower layer into a higher one (ASSEMBLY aside)."""
    bad = []
    for module, targets in sorted(graph.items()):
        if module in ASSEMBLY or layer(module) not in BELOW:
            continue
        here = layer(module)
        for target in sorted(targets):
            there = layer(target)
            if there != here and there not in BELOW[here]:
                bad.append(f"{module} ({here}) -> {target} ({there})")
    return bad


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
    assert "moderation.extensions" in graph["moderation.services.comments"]
    assert "moderation.screening.base" in graph["moderation.screening.pipeline"]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_imports_from_another_audiences_blueprint():
    assert upward_imports(import_graph()) == []


def test_each_layer_imports_only_from_the_layers_below_it():
    assert layer_violations(import_graph()) == []


def test_the_layers_are_where_the_docs_say():
    assert layer("moderation.models") == "plumbing"
    assert layer("moderation.services.comments") == "services"
    assert layer("moderation.reader.cache") == "reader"
    assert layer("moderation.screening.rules") == "screening"
    assert layer("moderation.embed.views") == "blueprint"
    assert layer("moderation.notify.outbox") == "notify"
    assert layer("moderation.signals") == "plumbing"
    assert layer_violations({"moderation.services.x": {"moderation.notify.events"}})
    assert layer("moderation.queue") == "blueprint"
    assert layer_violations({"moderation.services.x": {"moderation.embed.views"}})


def test_the_screening_pipeline_imports_nothing_from_the_web_app():
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("moderation.screening"):
            outside = {t for t in targets if not t.startswith("moderation.screening")}
            assert outside <= {"moderation.config"}, (module, outside)


def test_no_test_imports_conftest_or_another_test_module():
    tests = PACKAGE.parent / "tests"
    offenders = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(tests)}: {name}"
                for name in names
                if name.split(".")[0] == "conftest" or name.startswith("test_")
            ]
    assert offenders == []
