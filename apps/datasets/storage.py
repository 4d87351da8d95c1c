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
    """Write `content` at `name`, replacing any file there, so that a reader finds the whole file or none.

    On a local filesystem the bytes go to a temporary name that is renamed when complete (a rename is atomic);
    an object store (S3 and the like) makes an object visible only once its upload is complete.
    """
    storage = datasets_storage()
    try:
        final = storage.path(name)
    except NotImplementedError:
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(content))
        return
    os.makedirs(os.path.dirname(final), exist_ok=True)
    _local_write(final, content, partial=f"{final}.{uuid.uuid4().hex}.partial")


def _local_write(final: str, content: bytes, *, partial: str) -> None:
    with open(partial, "wb") as out:
        out.write(content)
    os.replace(partial, final)  # atomic: a reader finds the whole file or none


def files_write_new(*, folder: str, files: Iterable[tuple[str, bytes]]) -> None:
    """Write files (names relative to `folder`) into a folder of their own, which no other writer uses (a build's
    attempt folder), each complete or not at all, as file_write_complete does: thousands of them, so the folder is
    resolved and made once, and a file's temporary name is its own name (nothing else writes there).
    """
    storage = datasets_storage()
    try:
        root = storage.path(folder)
    except NotImplementedError:
        for name, content in files:
            storage.save(f"{folder}/{name}", ContentFile(content))
        return
    os.makedirs(root, exist_ok=True)
    for name, content in files:
        final = os.path.join(root, name)
        _local_write(final, content, partial=f"{final}.partial")


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
