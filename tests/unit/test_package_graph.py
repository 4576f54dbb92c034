"""The product's package graph flows one way, as docs/architecture.md draws it.

Every module of ``acr_reconcile/`` is parsed (not imported), and every import counts:
top level, inside functions, under ``if TYPE_CHECKING:``, relative, and
``importlib.import_module("…")`` with a literal name. A unit is a sub-package
(``acr_reconcile/plan/``) or a top-level module (``acr_reconcile/errors.py``); a unit may
import itself and units of lower layers, never a peer or a higher layer. A cycle between
units is reported as the cycle itself, which says where to cut. The emulator is a separate
distribution met over the wire: only the ``sandbox`` command's dispatcher may import it,
and the product never imports the emulator's web stack.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PRODUCT = Path(__file__).resolve().parents[2] / "acr_reconcile"
ROOT = "acr_reconcile"
PACKAGE_INIT = "__init__"  # the unit of ``import acr_reconcile`` (the version)

# Lowest layer first. Peers in one layer are independent of each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    (PACKAGE_INIT, "errors"),  # version, the one error hierarchy
    ("files", "bounded", "redact"),  # private-file writer, bounded HTTP bodies, redaction
    ("notation",),  # Notary Project signatures: pure envelopes, verification, trust policy
    ("console", "azure", "registry", "spec"),  # output; ARM/Graph clients; token protocol; spec
    ("trust",),  # Notary v1 over the registry token protocol
    ("live",),  # reads Azure and the data plane into LiveState values
    ("plan",),  # pure planner over spec documents and LiveState
    ("apply",),  # executor and handlers
    ("commands",),  # one module per command, and the composition root (connection.py)
    ("cli", "demo"),  # argument parsing and dispatch; the walkthrough (child processes)
    ("__main__",),
)
EMULATOR = "acr_sandbox"
EMULATOR_DISPATCHER = "acr_reconcile.commands.sandbox"
FORBIDDEN = ("aiohttp",)  # the emulator's web server: never a dependency of the product


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module (or name), dotted
    line: int


def _module_name(path: Path) -> str:
    parts = [ROOT, *path.relative_to(PRODUCT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PRODUCT.rglob("*.py"))}


def _literal_import_module(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_of(
    source: str, module: str, *, is_package: bool, known: Mapping[str, Path]
) -> Iterator[Import]:
    """Every import in ``source`` wherever it sits (``ast.walk`` sees function bodies and
    ``if TYPE_CHECKING`` blocks alike); ``from pkg import mod`` counts as ``pkg.mod``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(module, submodule if submodule in known else base, node.lineno)
        elif isinstance(node, ast.Call):
            named = _literal_import_module(node)
            if named:
                yield Import(module, named, node.lineno)


def _all_imports() -> list[Import]:
    known = _modules()
    found: list[Import] = []
    for module, path in known.items():
        text = path.read_text(encoding="utf-8")
        found += imports_of(text, module, is_package=path.name == "__init__.py", known=known)
    return found


def unit_of(module: str) -> str | None:
    """The unit a product module belongs to; None for anything outside the product."""
    if module == ROOT:
        return PACKAGE_INIT
    if not module.startswith(f"{ROOT}."):
        return None
    return module.split(".")[1]


def _layer_index() -> dict[str, int]:
    return {unit: level for level, units in enumerate(LAYERS) for unit in units}


def _unit_edges(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    edges: dict[tuple[str, str], list[Import]] = {}
    for found in imports:
        source, target = unit_of(found.source), unit_of(found.target)
        if source and target and source != target:
            edges.setdefault((source, target), []).append(found)
    return edges


def find_cycle(edges: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a path that ends where it starts, else None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(edges.get(node, ())):
            if state.get(successor) == 1:
                return [*path[path.index(successor) :], successor]
            if successor not in state and (cycle := visit(successor)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def _where(found: Import) -> str:
    return f"{found.source} (line {found.line}) imports {found.target}"


def test_every_unit_has_a_place_in_the_layer_order() -> None:
    units = {unit_of(module) for module in _modules()}
    placed = set(_layer_index())
    assert len(placed) == sum(len(layer) for layer in LAYERS), "a unit is listed twice"
    assert units - placed == set(), "new packages must be placed in LAYERS (and the doc)"
    assert placed - units == set(), "LAYERS names a unit that no longer exists"


def test_no_cycle_between_the_products_packages() -> None:
    graph: dict[str, set[str]] = {}
    for source, target in _unit_edges(_all_imports()):
        graph.setdefault(source, set()).add(target)
    cycle = find_cycle(graph)
    assert cycle is None, "package cycle: " + " -> ".join(cycle or [])


def test_imports_only_go_down_the_layers() -> None:
    level = _layer_index()
    upward = [
        _where(found)
        for (source, target), imports in sorted(_unit_edges(_all_imports()).items())
        if level[target] >= level[source]
        for found in imports
    ]
    assert upward == []


def test_only_the_sandbox_command_imports_the_emulator() -> None:
    imports = _all_imports()
    emulator = [i for i in imports if i.target.split(".")[0] == EMULATOR]
    assert [_where(i) for i in emulator if i.source != EMULATOR_DISPATCHER] == []
    assert {i.source for i in emulator} == {EMULATOR_DISPATCHER}  # the check sees it


def test_the_product_never_imports_the_emulators_web_stack() -> None:
    forbidden = [i for i in _all_imports() if i.target.split(".")[0] in FORBIDDEN]
    assert [_where(i) for i in forbidden] == []


def test_the_parser_sees_imports_wherever_they_are() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from acr_reconcile.plan.model import Plan\n"
        "def run():\n"
        "    import acr_reconcile.apply.executor\n"
        "    from . import sibling\n"
        "    from ..spec import loader\n"
        "    importlib.import_module('acr_reconcile.commands.plan')\n"
    )
    known = {name: Path() for name in ("acr_reconcile.live.sibling", "acr_reconcile.spec.loader")}
    found = {
        i.target for i in imports_of(source, "acr_reconcile.live.x", is_package=False, known=known)
    }
    assert found >= {
        "acr_reconcile.plan.model",
        "acr_reconcile.apply.executor",
        "acr_reconcile.live.sibling",
        "acr_reconcile.spec.loader",
        "acr_reconcile.commands.plan",
    }


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"b"}}, ["b", "b"]),
    ],
)
def test_cycle_finder(edges: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(edges) == cycle
