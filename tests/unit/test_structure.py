"""The package's shape (docs/architecture.md): no import cycles between its modules, the
voice workshop outside the Pipeline, a package face that shadows none of its modules."""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import revoice
from revoice.pipeline import Pipeline

SRC = Path(revoice.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The revoice modules `name` imports when it is imported: module-level statements,
    not those under `if TYPE_CHECKING:` nor inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" not in test:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    module = f"{base}.{node.module}" if node.module else base
                else:
                    module = node.module or ""
                for alias in node.names:  # a submodule, or a name of the module
                    sub = f"{module}.{alias.name}"
                    found.add(sub if sub in known else module)

    visit(tree.body)
    # a module's own packages are imported before it whatever it says: not an edge
    ancestors = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
    return {m for m in found if m in known and m != name and m not in ancestors}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    known = set(files)
    return {name: _top_level_imports(path, name, known) for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_graph_walker_sees_imports_and_finds_a_cycle() -> None:
    graph = _graph()
    assert "revoice.pipeline" in graph["revoice.workshop"]
    assert "revoice.likeness" in graph["revoice.workshop"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_module_import_cycles() -> None:
    assert _cycle(_graph()) is None


def test_the_voice_workshop_is_not_the_pipeline() -> None:
    """Making, removing and matching voices live in `revoice.workshop`; the Pipeline reads
    voices and speaks, and `likeness` knows no pipeline."""
    for name in ("add_voice", "remove_voice", "like_me"):
        assert not hasattr(Pipeline, name), name
    assert "revoice.pipeline" not in (SRC / "likeness.py").read_text(encoding="utf-8")


def _calls(path: Path) -> set[str]:
    """The names of the attributes `path`'s code calls (`x.name(...)`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def test_the_voice_to_voice_doors_convert_in_one_call() -> None:
    """The page, the CLI and the API's voice to voice run a conversion, text step included,
    through `Pipeline.conversion`: none of them runs the text step on its own."""
    for door in ("ui/app.py", "cli.py", "api/routes/audio.py"):
        calls = _calls(SRC / door)
        assert "conversion" in calls and "text_step" not in calls, door


def test_the_package_face_shadows_no_module() -> None:
    """`revoice.voices` and every other submodule import as modules (the package's own
    names must not hide them)."""
    for path in SRC.iterdir():
        if path.name.startswith("_") or not (path.suffix == ".py" or path.is_dir()):
            continue
        if path.is_dir() and not (path / "__init__.py").is_file():
            continue
        name = f"revoice.{path.stem}"
        module = importlib.import_module(name)
        assert isinstance(module, types.ModuleType)
        face = getattr(revoice, path.stem, module)
        assert face is module, f"revoice.{path.stem} is {face!r}, not the module"
