"""No import circle inside `emosum_tui`: the layers only point one way.

Every module is parsed with `ast` and each `import` it executes is an edge: module-level and
inside functions, absolute and relative, `from emosum_tui.x import y` pointing at the module
`emosum_tui.x.y` when `y` is one, else at `emosum_tui.x`. Imports under `if TYPE_CHECKING:`
are left out: they never run, and they are how a type names a class from a higher layer.
A circle means two modules can only be understood (and imported) together, so it fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import emosum_tui

PACKAGE = Path(emosum_tui.__file__).parent
ROOT = "emosum_tui"


def module_files() -> dict[str, Path]:
    """Dotted module name -> its file, for every .py file in the package."""
    modules: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _executed_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: all of them but those under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _resolve_relative(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name a relative `from . import x` / `from ..a import b` refers to."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The emosum_tui modules that `module` imports (itself excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    targets: set[str] = set()
    for node in _executed_imports(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            source = _resolve_relative(module, path.name == "__init__.py", node) if node.level else (node.module or "")
            # `from a.b import c`: c is either the module a.b.c or a name defined in a.b.
            names = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source for alias in node.names]
        for name in names:
            while name and name not in known:  # `import a.b.c` of a name inside a module: its module
                name = name.rpartition(".")[0]
            if name.startswith(ROOT) and name in known and name != module:
                targets.add(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {module: imports_of(module, path, known) for module, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return [*path[path.index(following):], following]
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                stack.append(iter(sorted(graph.get(following, ()))))
    return None


def test_the_graph_holds_every_kind_of_import() -> None:
    graph = import_graph()
    assert "emosum_tui.core.model_shapes" in graph["emosum_tui.core.cost_model"]  # module level
    assert "emosum_tui.core.cost_model" in graph["emosum_tui.doctor.preflight"]  # inside a function
    assert "emosum_tui.core.calibration" in graph["emosum_tui.doctor.preflight"]  # `from emosum_tui.core import calibration`
    assert "emosum_tui.core.calibration" not in graph["emosum_tui.core.cost_model"]  # under TYPE_CHECKING only


def test_relative_imports_resolve(tmp_path: Path) -> None:
    module = tmp_path / "b.py"
    module.write_text("from . import a\nfrom .a import x\nfrom ..core import presets\n", encoding="utf-8")
    known = {"emosum_tui.ui.a", "emosum_tui.ui.b", "emosum_tui.core", "emosum_tui.core.presets"}
    assert imports_of("emosum_tui.ui.b", module, known) == {"emosum_tui.ui.a", "emosum_tui.core.presets"}


def test_find_cycle_names_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle_in_emosum_tui() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])
