"""Persistence, no domain rules and no UI: the database, records, secrets, files, spool."""
