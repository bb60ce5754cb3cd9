"""Checks: is this installation ready, and does what is stored still hold?

* ``doctor`` - ``mailroom doctor``: every check, each line OK or what is wrong and its fix;
* ``doctor_checks`` - the account in the folder's group, the audit chain, templates
  against a sample document, stored files, spool and archive, scheduled sending;
* ``doctor_line`` - one line of the checklist;
* ``keymap`` - where the UI tells restore how to check a key map (no UI import here).
"""
