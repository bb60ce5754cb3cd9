"""The application shell: the Textual app and the `mailroom` command line."""
