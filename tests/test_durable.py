"""One writer: the durability rule in one place, no other rename of data in the code base, no import cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from annotations.durable import replace_folder, staging_folder, write_atomic
from conftest import REPO

SOURCE_DIRS = ("annotations", "generators", "omnidiff", "leaderboard")


def source_files() -> list[Path]:
    files = [REPO / "cli.py"]
    for folder in SOURCE_DIRS:
        files += sorted((REPO / folder).rglob("*.py"))
    return files


def test_write_atomic_replaces_whole_files_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "file.json"
    write_atomic(target, b"one")
    assert target.read_bytes() == b"one"
    assert write_atomic(target, lambda fh: fh.write(b"two") and "returned") == "returned"
    assert target.read_bytes() == b"two"

    def fails(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, fails)
    assert target.read_bytes() == b"two" and sorted(p.name for p in target.parent.iterdir()) == ["file.json"]


def test_replace_folder_commits_a_staged_folder(tmp_path):
    final = tmp_path / "out"
    staging = staging_folder(final)
    (staging / "a.txt").write_text("a")
    replace_folder(staging, final)
    assert (final / "a.txt").read_text() == "a" and not staging.exists()
    again = staging_folder(final)
    with pytest.raises(FileExistsError):
        replace_folder(again, final)
    replace_folder(again, final, replace_existing=True)
    assert list(final.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_no_other_code_renames_data_into_place():
    pattern = re.compile(r"\bos\.(replace|rename)\(|\.rename\(|shutil\.move\(|\w+\.replace\((\w+ / |path\b|final\b|out\b)")
    offenders = [f"{path.relative_to(REPO)}:{n}: {line.strip()}"
                 for path in source_files() if path.name != "durable.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def _imports(path: Path, package: str) -> set[str]:
    """Modules of ``package`` that ``path`` imports anywhere (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
    return found


def test_no_import_cycle_inside_annotations():
    root = REPO / "annotations"
    modules = {".".join(p.relative_to(REPO).with_suffix("").parts): p for p in root.rglob("*.py")}
    modules = {name.removesuffix(".__init__"): p for name, p in modules.items()}
    graph = {name: {m for m in _imports(path, "annotations") if m in modules and m != name}
             for name, path in modules.items() if name != "annotations"}  # the package face re-exports
    for deps in graph.values():
        deps.discard("annotations")
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, trail + [dep])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert "annotations.store" not in graph["annotations.validate"]
