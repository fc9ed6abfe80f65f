"""The package's shape: no import cycles, dependencies one way between the pipeline's rooms, the
package never imports the spiders, and the wheel's package list matches the folders.

Imports are read from the source with ``ast`` (imports inside functions count too: a lazy import
is still a dependency)."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tbt_alert"

# Rooms from the bottom up: a module may import its own room and rooms below it, never above
# or beside it (rooms on one rank are independent of each other).
RANKS: tuple[tuple[str, ...], ...] = (
    ("foundation",),  # config, errors, status, record, resources
    ("text",),
    ("sources",),
    ("store",),
    ("crawl", "classify"),
    ("triage",),  # analysts' decisions, queue, search: read by alerts when planning
    ("alerts",),
    ("mail",),
    ("comments",),
    ("composition",),  # pipeline, backfill
    ("daemon", "demo", "web"),
    ("cli",),
)
COMPOSITION = {"pipeline", "backfill"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    found.update({module_name(p): p for p in (ROOT / "spiders").rglob("*.py")})
    return found


def imported_names(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for target, _ in imported_names(path):
            if target in known and target != name:
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def room(module: str) -> str:
    """The room of a package module: its subpackage, 'composition' or 'foundation'."""
    parts = module.split(".")
    if len(parts) == 1:
        return "foundation"
    if (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "composition" if parts[1] in COMPOSITION else "foundation"


def rank(room_name: str) -> int:
    for number, rooms in enumerate(RANKS):
        if room_name in rooms:
            return number
    raise AssertionError(f"room {room_name!r} has no rank in tests/test_layout.py: place it")


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules():
    assert cycles(import_graph()) == []


def test_the_package_never_imports_spiders():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: imports {target}"
        for name, path in modules().items()
        if name.startswith("tbt_alert")
        for target, line in imported_names(path)
        if target == "spiders" or target.startswith("spiders.")
    ]
    assert offences == []


def test_every_room_has_a_rank():
    rooms = {room(m) for m in modules() if m.startswith("tbt_alert")}
    assert {r for group in RANKS for r in group} >= rooms
    for r in rooms:
        rank(r)


def test_dependencies_run_one_way():
    """A module imports only from its own room or rooms of a lower rank."""
    offences = []
    known = modules()
    for name, path in known.items():
        if not name.startswith("tbt_alert"):
            continue
        here = room(name)
        for target, line in imported_names(path):
            if target not in known or not target.startswith("tbt_alert"):
                continue
            there = room(target)
            if there != here and rank(there) >= rank(here):
                offences.append(
                    f"{path.relative_to(ROOT)}:{line}: {here} imports {there} ({target})"
                )
    assert sorted(set(offences)) == []


def test_rank_check_catches_an_upward_import():
    assert rank(room("tbt_alert.store.ingest")) < rank(room("tbt_alert.classify.classifier"))
    assert room("tbt_alert.pipeline") == "composition"
    assert room("tbt_alert.errors") == "foundation"


def test_wheel_package_list_matches_the_folders():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    listed = set(config["packages"])
    mapped = set(config["package-dir"])
    folders = {module_name(p.parent / "__init__.py") for p in PACKAGE.rglob("__init__.py")}
    assert (
        listed - mapped - {"spiders", "tbt_alert.templates.email", "tbt_alert.templates.web"}
        == folders
    )
    for package, folder in config["package-dir"].items():
        assert (ROOT / folder).is_dir(), f"{package} maps to missing folder {folder}"


@pytest.mark.parametrize("folder", ["rules", "templates"])
def test_shipped_folders_are_found(folder):
    from tbt_alert.resources import resource_dir

    assert resource_dir(folder).is_dir()
    assert any(resource_dir(folder).rglob("*.*"))
