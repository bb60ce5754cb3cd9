"""pypdf's private parts that Mailroom uses, in one place (pinned by
``tests/unit/test_library_internals.py``; see reportlab_adapter.py for why).

- ``StreamObject._data``: a stream's data as stored in the file, still encoded, read
  and set so that a letterhead page (letterhead_forms.py) and a document put on the
  print list (batches/print_list.py) are copied byte for byte, never inflated.
"""

from __future__ import annotations

from typing import Any


def encoded_data(stream: Any) -> bytes:
    """A stream object's data as stored (still encoded by its filters)."""
    data: bytes = stream._data
    return data


def encoded_stream(data: bytes) -> Any:
    """A new stream object holding ``data`` as stored (encoded): written unchanged."""
    from pypdf.generic import EncodedStreamObject

    stream = EncodedStreamObject()
    stream._data = data
    return stream
