"""The package's import graph: no circles, no private names across packages, and the
emulator's shared layer reaching services only through the registry.

Every import counts, those inside functions included (a lazy import hides a circle
from Python, not from a reader).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "labkit"
#: The emulator's shared layer: the pipeline and what it is built of. It may import the
#: registry (labkit.emulator.services) but no module of a particular service.
SHARED = ("labkit.emulator.authz", "labkit.emulator.request", "labkit.emulator.aws_like",
          "labkit.emulator.control", "labkit.emulator.app", "labkit.emulator.proxy",
          "labkit.emulator.tls", "labkit.emulator.server")
SERVICES = "labkit.emulator.services."


def _modules() -> dict:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, modules: dict):
    """(imported module, imported name or None) for every import statement of MODULE."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield _known(alias.name, modules), None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in modules else _known(base, modules)), alias.name


def _known(name: str, modules: dict):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _graph():
    modules = _modules()
    edges, private, layering = {}, [], []
    for module, path in modules.items():
        for target, name in _imports(module, path, modules):
            if target is None or target == module:
                continue
            edges.setdefault(module, set()).add(target)
            owner = module.rsplit(".", 1)[0]
            if name and name.startswith("_") and not name.startswith("__") \
                    and not target.startswith(owner):
                private.append(f"{module} imports {name} from {target}")
            if module.startswith(SHARED) and target.startswith(SERVICES):
                layering.append(f"{module} imports {target}")
    return modules, edges, private, layering


def _cycles(nodes, edges):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_another_in_a_circle():
    modules, edges, _, _ = _graph()
    assert _cycles(sorted(modules), edges) == []


def test_no_private_name_crosses_a_package():
    assert _graph()[2] == []


def test_the_shared_layer_reaches_services_only_through_the_registry():
    assert _graph()[3] == []


def test_the_checker_sees_a_circle_and_a_private_import():
    # The checks above must be able to fail: a made-up graph with both faults.
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(["a", "b", "c", "d"], edges) == [["a", "b", "c"]]
    assert _cycles(["a", "d"], {"d": {"a"}}) == []
