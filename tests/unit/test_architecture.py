"""docs/architecture.md draws the parts of mailing/ and their arrows; this keeps the
drawing true: it is made again from the real imports (grimp, which import-linter
brings) and compared. After moving code, print the new table with
`python -m tests.unit.test_architecture` and paste it into the doc."""

from __future__ import annotations

import functools

from tests.conftest import ROOT


def arrows() -> str:
    import grimp

    graph = grimp.build_graph("mailing", "store")

    def part(module: str) -> str:
        return module.split(".")[1]

    edges: dict[str, set[str]] = {}
    parts = {part(m) for m in graph.modules if m.startswith("mailing.")}
    for module in graph.modules:
        if not module.startswith("mailing."):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("mailing.") and part(imported) != part(module):
                edges.setdefault(part(module), set()).add(part(imported))

    @functools.cache
    def height(p: str) -> int:
        return 1 + max((height(q) for q in edges.get(p, ())), default=-1)

    lines = []
    for p in sorted(parts, key=lambda p: (-height(p), p)):
        targets = ", ".join(sorted(edges.get(p, ()))) or "(only store)"
        lines.append(f"{p:<15} -> {targets}")
    return "\n".join(lines) + "\n"


def test_the_drawing_in_the_architecture_doc_is_the_real_one() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert arrows() in doc, "docs/architecture.md is out of date:\n" + arrows()


if __name__ == "__main__":
    print(arrows(), end="")


def test_the_tables_the_tui_reads_before_the_records_are_imported_are_the_records_tables() -> None:
    """tui/app.py and screens/profiles.py read stored rows by table name at start (no
    pydantic yet); the names must be the records' own."""
    from screens.profiles import PROFILES_TABLE
    from store.records import Administration, Profile

    app_source = (ROOT / "tui" / "app.py").read_text()
    assert f'tx.rows("{Administration.table}")' in app_source
    assert f'tx.rows("{Profile.table}")' in app_source
    assert PROFILES_TABLE == Profile.table
