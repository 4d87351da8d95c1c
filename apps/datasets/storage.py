"""Files of datasets in the storage named `datasets` in settings.STORAGES (the filesystem by default, any
django-storages backend by configuration)."""

import os
import uuid

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
    partial = f"{final}.{uuid.uuid4().hex}.partial"
    with open(partial, "wb") as out:
        out.write(content)
    os.replace(partial, final)


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
