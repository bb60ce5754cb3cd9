"""A command line naming a command builds only the parser of the module that registers it
(tui/cli.py ``COMMANDS_OF``): the table must name exactly what each module registers, and
the parser so built must read a command line as the full one does."""

from __future__ import annotations

import argparse
import importlib

from tui.cli import COMMAND_MODULES, COMMANDS_OF, build_parser, parser_for


def registered(module: str) -> list[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    importlib.import_module(module).register(sub)
    return sorted(sub.choices)


def test_the_table_names_every_command_of_every_module() -> None:
    assert set(COMMANDS_OF) == set(COMMAND_MODULES)
    for module in COMMAND_MODULES:
        assert sorted(COMMANDS_OF[module]) == registered(module), module


def test_the_one_module_parser_reads_a_command_line_as_the_full_one() -> None:
    argv = ["--home", "/tmp/x", "--user=ann", "batch", "create", "--type", "sales_invoice"]
    argv += ["--from", "2001-02-03", "--to", "2001-02-03", "--workers", "1"]
    one = parser_for(argv)
    assert sorted(one._subparsers._group_actions[0].choices) == ["batch"]  # type: ignore[union-attr]
    assert vars(one.parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_an_unknown_word_or_help_gets_every_command() -> None:
    for argv in (["--help"], ["--home", "/tmp/x", "bach", "create"]):
        parser = parser_for(argv)
        choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        assert sorted(choices) == sorted(c for names in COMMANDS_OF.values() for c in names)
    assert parser_for(["--home", "/tmp/x"])._subparsers is None
