"""The code's structure holds: imports run one way and no app module is in a cycle."""

import tomllib
from pathlib import Path

import grimp
from django.conf import settings
from importlinter.cli import lint_imports


def _apps() -> tuple[str, ...]:
    """Return the root packages the import contracts cover (pyproject.toml)."""
    config = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())
    return tuple(config["tool"]["importlinter"]["root_packages"])


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(edges[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_among_app_modules():
    graph = grimp.build_graph(*_apps())
    modules = {m for m in graph.modules if ".tests" not in m and ".migrations" not in m}
    edges = {
        m: {i for i in graph.find_modules_directly_imported_by(m) if i in modules} for m in modules
    }
    assert _cycles(edges) == []


def test_the_cycle_check_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_import_contracts_hold():
    # The contracts live in pyproject.toml: the engine imports nothing of incidents or
    # actions, and the incident pipeline and the engine each run one way.
    config = str(Path(settings.BASE_DIR) / "pyproject.toml")
    assert lint_imports(config_filename=config, no_cache=True) == 0
