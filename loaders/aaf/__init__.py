"""Reading AAF exports ("ficAlimMENESR" XML): from paths on disk to a validated, ordered
stream of records.

Typical use::

    delivery = discover(["/data/aaf/2024-09-16.tar.gz"])
    summary = validate(delivery)            # reads everything once; raises AAFError
    for export in delivery.files:           # structures, references, pupils, relatives, staff
        for record in iter_records(export):
            ...

Nothing here knows LDAP or the meaning of attributes: records carry the values as written.
"""
from loaders.aaf.delivery import FileName, discover, export_file, parse_file_name, validate
from loaders.aaf.errors import AAFError, DeliveryError, LimitExceededError, UnsafeDocumentError
from loaders.aaf.parser import iter_records, read_header
from loaders.aaf.records import (
    CATEGORY_ATTRIBUTES, DEFAULT_LIMITS, MODES, OPERATIONS, Delivery, ExportFile, FileKind,
    Header, IgnoredFile, Limits, Mode, Operation, Record, ValidationSummary,
)

__all__ = [
    "CATEGORY_ATTRIBUTES",
    "DEFAULT_LIMITS",
    "MODES",
    "OPERATIONS",
    "AAFError",
    "Delivery",
    "DeliveryError",
    "ExportFile",
    "FileKind",
    "FileName",
    "Header",
    "IgnoredFile",
    "LimitExceededError",
    "Limits",
    "Mode",
    "Operation",
    "Record",
    "UnsafeDocumentError",
    "ValidationSummary",
    "discover",
    "export_file",
    "iter_records",
    "parse_file_name",
    "read_header",
    "validate",
]
