"""Room on disk: one policy for every place revoice writes on a user's behalf.

An upload is spooled to the temp dir (the API) or Gradio's cache (the page), a conversion's
audio goes to the page cache, a custom voice to the voices file. When the disk is full, the
request is refused up front with 507 and a message, and nothing is left behind, rather than a
parse error, a 500, or half a file.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from revoice.errors import StorageFull

#: kept free after an upload is stored, for the work that follows (logs, the response)
MARGIN = 1 << 20
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def is_full(exc: BaseException) -> bool:
    """Whether an OSError means the disk (or a quota, or a file-size limit) is full."""
    return isinstance(exc, OSError) and exc.errno in _FULL


def free_bytes(directory: str | os.PathLike[str]) -> int:
    """Bytes free where `directory` is (or would be created: its nearest existing parent)."""
    path = Path(directory).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 1 << 62  # cannot tell: let the write itself say


def ensure_room(directory: str | os.PathLike[str], need: int, what: str) -> None:
    """Raise StorageFull unless `need` bytes (plus a margin) fit in `directory`."""
    free = free_bytes(directory)
    if free < need + MARGIN:
        raise StorageFull(
            f"the server has no room for {what}: {free // 1024} KiB free in {directory}, "
            f"{(need + MARGIN) // 1024} KiB needed; nothing was stored (the server's operator "
            "must free space)"
        )


def full_error(exc: OSError, what: str) -> StorageFull:
    """The user's message for a write that ran out of room."""
    return StorageFull(
        f"the server's disk is full ({exc.strerror or exc}): {what} was not saved, "
        "nothing was changed"
    )


def upload_dir() -> str:
    """Where the API spools uploads (Starlette's multipart parser uses the temp dir)."""
    return tempfile.gettempdir()


def page_cache_dir() -> str:
    """Where Gradio keeps page uploads and outputs."""
    return os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
