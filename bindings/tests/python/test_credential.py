"""Reading a digital key against protocol/vectors/credential.json."""

import pytest

import keyway_core
from keyway_core import KeywayError


def test_inspect_matches_every_field(credential_vector):
    raw = bytes.fromhex(credential_vector["credential_hex"])
    fields = credential_vector["fields"]
    info = keyway_core.inspect_credential(raw)
    assert info.credential_id == fields["credential_id"]
    assert info.site_id == fields["site_id"]
    assert info.user_id == fields["user_id"]
    assert list(info.lock_ids) == fields["lock_ids"]
    assert info.not_before == fields["not_before"]
    assert info.not_after == fields["not_after"]
    assert info.revocation_epoch == fields["revocation_epoch"]
    assert info.master_key is fields["master_key"]
    assert info.privacy_override is fields["privacy_override"]
    assert info.office_mode is fields["office_mode"]
    got_schedule = [
        {"days": w.days, "start_minute": w.start_minute, "end_minute": w.end_minute}
        for w in info.schedule
    ]
    assert got_schedule == fields["schedule"]
    assert info.size_bytes == credential_vector["size_bytes"] == len(raw)


def _garbage(credential_vector):
    raw = bytes.fromhex(credential_vector["credential_hex"])
    return [b"", b"\x5a" * 64, raw[:-1], raw + b"\x00"]


@pytest.mark.parametrize("which", range(4))
def test_garbage_is_invalid_input(credential_vector, which):
    with pytest.raises(KeywayError.InvalidInput):
        keyway_core.inspect_credential(_garbage(credential_vector)[which])
