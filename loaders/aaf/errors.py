"""Errors raised while reading AAF exports.

Every error names the file it is about and, when it is about one place in that file, the line
and column (1-based). ``str(error)`` is ``path:line:column: explanation``, the form editors and
terminals recognise; parts that are unknown are left out (``path:line: ...``, ``path: ...``).
Messages never quote record data: only file names, element and attribute names, and positions.
"""
from __future__ import annotations


class AAFError(Exception):
    """A file or a delivery cannot be read as an AAF export.

    ``path`` is the display name of the file (``archive.zip!inner/name.xml`` for an archive
    member) or, for delivery-wide problems, of the input that was given.
    """

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        super().__init__(path, line, column, message)
        self.path = path
        self.line = line
        self.column = column
        self.message = message

    def __str__(self) -> str:
        location = self.path
        if self.line is not None:
            location += f":{self.line}"
            if self.column is not None:
                location += f":{self.column}"
        return f"{location}: {self.message}"


class UnsafeDocumentError(AAFError):
    """The document declares entities or asks for external resources; nothing was expanded."""


class LimitExceededError(AAFError):
    """A size limit was exceeded (file, value, values per attribute, record size...)."""


class DeliveryError(AAFError):
    """The set of files given is not a loadable delivery (missing chunk, mixed modes...)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, None, None, message)
        self.args = (path, message)
