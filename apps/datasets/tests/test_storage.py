"""Files of datasets are whole or absent under their final names, whatever happens while they are written."""

import pytest

from apps.datasets.storage import file_write_chunks


def test_a_pack_cut_short_never_has_its_final_name(dataset_storage):
    def chunks():
        yield b"{}"
        raise OSError("the disk is gone")

    with pytest.raises(OSError, match="the disk is gone"):
        file_write_chunks(name="1/x/outfiles/attempt/pages", chunks=chunks())

    folder = dataset_storage / "1/x/outfiles/attempt"
    assert [path.name.endswith(".partial") for path in folder.iterdir()] == [True]
