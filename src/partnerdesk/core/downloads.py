"""How the desk names a file it sends as a download (installation files, service request attachments)."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(file_name: str) -> str:
    """`attachment` with the name twice (RFC 6266): an ASCII fallback with quotes and non-ASCII characters
    replaced, and the exact name in UTF-8 for the clients that read `filename*`."""
    fallback = file_name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"
