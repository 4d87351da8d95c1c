"""Files of datasets in the storage named `datasets` in settings.STORAGES (the filesystem by default, any
django-storages backend by configuration)."""

import os
import uuid
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages


def datasets_storage() -> Storage:
    return storages["datasets"]


def file_write_complete(*, name: str, content: bytes) -> None:
    """Write `content` at `name`, replacing any file there, so that a reader finds the whole file or none."""
    file_write_chunks(name=name, chunks=[content])


def file_write_chunks(*, name: str, chunks: Iterable[bytes]) -> None:
    """Write the content made of `chunks` at `name`, replacing any file there, so that a reader finds the whole file
    or none.

    On a local filesystem the chunks are streamed to a temporary name (never held whole) that is renamed when
    complete (a rename is atomic); an object store (S3 and the like) makes an object visible only once its upload
    is complete.
    """
    storage = datasets_storage()
    try:
        final = storage.path(name)
    except NotImplementedError:
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(b"".join(chunks)))
        return
    os.makedirs(os.path.dirname(final), exist_ok=True)
    partial = f"{final}.{uuid.uuid4().hex}.partial"
    with open(partial, "wb") as out:
        out.writelines(chunks)
    os.replace(partial, final)


def file_range_read(*, name: str, offset: int, length: int) -> bytes:
    """`length` bytes of a stored file from `offset` (one page of a build's pack)."""
    with datasets_storage().open(name, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def folder_delete(*, folder: str, keep: str | None = None) -> None:
    """Delete the files under `folder`, except its subfolder `keep`, whatever the backend (and the emptied folders
    where the backend has folders)."""
    storage = datasets_storage()
    if not storage.exists(folder):
        return
    subfolders, files = storage.listdir(folder)
    for name in files:
        storage.delete(f"{folder}/{name}")
    for subfolder in subfolders:
        if subfolder != keep:
            folder_delete(folder=f"{folder}/{subfolder}")
            storage.delete(f"{folder}/{subfolder}")
