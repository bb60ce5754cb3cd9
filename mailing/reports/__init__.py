"""Reports, as data and as PDF (SPEC §8): the relations e-mail overview and the batch report.

Each report is first built as plain data (``relations_report``, ``batch_report``),
which the TUI shows and the tests check; ``*_pdf`` draws it on A4 with reportlab:
a title, a summary that names every problem, a table whose header repeats on
every page, and "page N of M" at the foot. ``make_report`` is what the command
line and the TUI call; mailing a report is :func:`mailing.manual.send_report`.

One idea a module:

* ``terms`` - :data:`PRINT_REASONS` and :class:`ReportError`, shared by the reports;
* ``relations`` - :func:`relations_report`, the relations e-mail overview as data;
* ``batch`` - :func:`batch_report`, what became of every item of a batch, as data;
* ``pdf`` - :func:`relations_pdf` and :func:`batch_pdf`, the reports drawn on A4;
* ``make`` - :data:`REPORTS` and :func:`make_report`, the one entry point.
"""

from mailing.reports.batch import (
    BatchReport,
    BatchRow,
    batch_report,
    batch_rows,
    latest_batch,
)
from mailing.reports.make import REPORTS, MadeReport, make_report
from mailing.reports.pdf import batch_pdf, relations_pdf
from mailing.reports.relations import (
    RecipientLine,
    RelationEntry,
    RelationsReport,
    relations_report,
)
from mailing.reports.terms import PRINT_REASONS, ReportError

__all__ = [
    "PRINT_REASONS",
    "REPORTS",
    "BatchReport",
    "BatchRow",
    "MadeReport",
    "RecipientLine",
    "RelationEntry",
    "RelationsReport",
    "ReportError",
    "batch_pdf",
    "batch_report",
    "batch_rows",
    "latest_batch",
    "make_report",
    "relations_pdf",
    "relations_report",
]
