"""The shape the code keeps: one package per stage, the evaluation apart, short functions."""

from __future__ import annotations

import ast
from pathlib import Path

from qa.settings import PROJECT_ROOT

QA = PROJECT_ROOT / "qa"
STAGE_PACKAGES = ("core", "ingest", "encode", "index", "query", "retrieve", "answer")
ENTRY_POINTS = {"__init__.py", "engine.py", "settings.py", "cli.py"}
MAX_FUNCTION_LINES = 60


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    """The modules a file imports when it runs (imports for type checkers only are left out)."""
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_runtime_module_imports_the_evaluation_package() -> None:
    runtime = [*_modules(QA), *_modules(PROJECT_ROOT / "ui")]
    offenders = [str(p) for p in runtime if any(n.split(".")[0] == "qa_eval" for n in _imported(p))]
    assert not offenders
    # And the check sees imports at all: the CLI imports the settings.
    assert "qa.settings" in _imported(QA / "cli.py")


def test_only_the_entry_points_sit_directly_under_qa() -> None:
    assert {p.name for p in QA.glob("*.py")} == ENTRY_POINTS
    packages = {p.parent.name for p in QA.glob("*/__init__.py")}
    assert set(STAGE_PACKAGES) <= packages


def test_data_flows_one_way_between_the_stage_packages() -> None:
    # A stage package imports only the packages of the stages before it (and core, settings).
    order = {name: position for position, name in enumerate(STAGE_PACKAGES)}
    backwards = []
    for package in STAGE_PACKAGES:
        for path in _modules(QA / package):
            for name in _imported(path):
                parts = name.split(".")
                if parts[0] == "qa" and len(parts) > 1 and parts[1] in order and order[parts[1]] > order[package]:
                    backwards.append(f"{path.relative_to(PROJECT_ROOT)} imports {name}")
    assert not backwards


def test_no_function_over_sixty_lines_in_the_runtime() -> None:
    long = []
    for path in [*_modules(QA), *_modules(PROJECT_ROOT / "ui")]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long
