"""The demo templates' old import path; they live in :mod:`mailing.demo.templates`."""

from mailing.demo.templates import LANGS, demo_templates

__all__ = ["LANGS", "demo_templates"]
