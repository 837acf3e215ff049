"""Issue 14 in Python: an admin manages what the locks enforce through the generated bindings,
against the real cloud. The owner's tag is their master key and nobody takes it away; offline
access reaches the tenant's key; Near Detection Mode needs an IQ; a fixed locker is for one
person; the admin sees a lock's offline storage."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import keyway_core
from cloud_mail import sign_up_verified
from keyway_core import KeywayError
from keyway_api import (
    LockerAssignment,
    SiteRole,
    UpdateLockSettingsRequest,
    UpdateTagRequest,
)
from keyway_protocol import ScheduleWindow
from test_cloud_flow import PASSWORD, file_phone, stamp


def card_public_key() -> bytes:
    """The public half of a key made on a new card (65 bytes, uncompressed)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@pytest.mark.asyncio
async def test_an_admin_manages_tags_offline_access_settings_and_lockers(
    cloud_url, cloud_mailbox, tmp_path
):
    run = stamp()
    owner_email = f"owner-{run}@rules.test"
    tenant_email = f"tenant-{run}@rules.test"
    owner = file_phone(cloud_url, tmp_path, "owner")
    await sign_up_verified(owner, cloud_mailbox, owner_email, "Owner", PASSWORD)
    await keyway_core.log_in_with_password(owner, owner_email, PASSWORD)
    site = await owner.admin().create_site(f"Rules {run}", 0)
    everyone = await owner.admin().list_people(
        site.site_id,
        keyway_core.PeopleListRequest(
            limit=None, cursor=None, search=None, role=SiteRole.OWNER, invited=None,
            tag_profiles=None,
        ),
    )
    [me] = everyone.people
    locks = await keyway_core.install_simulated_locks(
        owner, site.site_id, site.authority_public_key, ["Front", "Locker 1"]
    )
    front, locker = locks.lock_ids()
    tenant = await owner.admin().add_person(site.site_id, tenant_email, "Tenant", SiteRole.USER)
    await owner.admin().create_access_group(
        site.site_id, "All", [front], [tenant.user_id, me.user_id], []
    )

    tag_id = f"{run % (1 << 48):014x}"
    tag = await owner.admin().register_tag(site.site_id, tag_id, card_public_key(), me.user_id)
    assert tag.master_key and tag.master_key_fixed and tag.offline_access
    with pytest.raises(KeywayError.NotAllowed):
        await owner.admin().update_tag(
            site.site_id,
            tag_id,
            UpdateTagRequest(user_id=None, unassign=False, offline_access=None, master_key=False),
        )
    with pytest.raises(KeywayError.InvalidInput):
        await owner.admin().register_tag(site.site_id, "not a tag id", card_public_key(), None)
    storage = await owner.admin().lock_offline_storage(site.site_id, front)
    assert [entry.tag_id for entry in storage.stored] == [tag_id]
    assert storage.capacity == 200 and storage.stored_bytes == 79

    tenant_phone = file_phone(cloud_url, tmp_path, "tenant", locks.transport())
    await sign_up_verified(tenant_phone, cloud_mailbox, tenant_email, "Tenant", PASSWORD)
    await keyway_core.log_in_with_password(tenant_phone, tenant_email, PASSWORD)
    await tenant_phone.devices().register()
    await tenant_phone.wallet().sync()
    [key] = await tenant_phone.wallet().keys()
    assert not key.works_offline
    person = await owner.admin().set_offline_access(site.site_id, tenant.user_id, True)
    assert person.offline_access
    await tenant_phone.wallet().sync()
    [key] = await tenant_phone.wallet().keys()
    assert key.works_offline, "the reissued key carries offline access"

    with pytest.raises(KeywayError.NotAllowed):
        await owner.admin().update_lock_settings(
            site.site_id,
            front,
            UpdateLockSettingsRequest(
                door_open_limit_seconds=None, near_detection=True, easy_office_schedule=None
            ),
        )
    settings = await owner.admin().update_lock_settings(
        site.site_id,
        front,
        UpdateLockSettingsRequest(
            door_open_limit_seconds=45,
            near_detection=None,
            easy_office_schedule=[ScheduleWindow(days=0b11111, start_minute=480, end_minute=600)],
        ),
    )
    assert settings.door_open_limit_seconds == 45 and len(settings.easy_office_schedule) == 1

    with pytest.raises(KeywayError.InvalidInput):
        await owner.admin().set_locker(
            site.site_id, locker, LockerAssignment.FIXED, [tenant.user_id, me.user_id]
        )
    view = await owner.admin().set_locker(
        site.site_id, locker, LockerAssignment.FIXED, [tenant.user_id]
    )
    assert view.occupied and list(view.user_ids) == [tenant.user_id]
    [listed] = await owner.admin().list_lockers(site.site_id)
    assert listed.lock_id == locker and listed.assignment == LockerAssignment.FIXED
