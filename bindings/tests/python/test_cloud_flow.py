"""Issue 4 in Python: login and key sync through the generated bindings against the real cloud
`cargo xtask test python` starts. An admin signs up, creates a site with simulated locks and a
tenant; the tenant's phone, whose secure store is Python code, logs in through the cloud's login
form, registers, syncs its key, opens the door over the simulated radio and uploads the event."""

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import keyway_core
from cloud_mail import sign_up_verified
from keyway_core import (
    Keyway,
    KeywayConfig,
    KeywayError,
    PeopleListRequest,
    PlatformError,
    SecureStore,
)
from keyway_api import PersonStatus, PinDelivery, Profile, SiteRole

PASSWORD = "a long enough password"
TOKENS_KEY = "keyway.tokens"


class InMemorySecureStore(SecureStore):
    """A secure store in a dict: the core calls it through the generated foreign trait."""

    def __init__(self):
        self._values = {}
        self._lock = threading.Lock()
        self.calls = Counter()

    def keys(self):
        with self._lock:
            return set(self._values)

    def get(self, key):
        with self._lock:
            self.calls["get"] += 1
            return self._values.get(key)

    def put(self, key, value):
        with self._lock:
            self.calls["put"] += 1
            if not key:
                raise PlatformError.Failed("empty key")
            self._values[key] = bytes(value)

    def delete(self, key):
        with self._lock:
            self.calls["delete"] += 1
            self._values.pop(key, None)


def stamp() -> int:
    return time.time_ns()


def phone(cloud_url: str, base: Path, name: str, store: SecureStore, transport=None) -> Keyway:
    """A phone: its own data directory, `store`, a software device key kept in it, a radio."""
    config = KeywayConfig(
        server_url=cloud_url,
        data_dir=str(base / name),
        device_name=f"{name}'s Python",
        platform="cli",
    )
    return Keyway(config, store, keyway_core.software_device_signer(store), transport)


def file_phone(cloud_url: str, base: Path, name: str, transport=None) -> Keyway:
    """A phone with a file secure store."""
    store = keyway_core.file_secure_store(str(base / f"{name}-secrets.json"))
    return phone(cloud_url, base, name, store, transport)


@pytest.mark.asyncio
async def test_tenant_logs_in_syncs_one_key_unlocks_and_uploads(cloud_url, cloud_mailbox, tmp_path):
    run = stamp()
    admin_email = f"admin-{run}@python.test"
    tenant_email = f"tenant-{run}@python.test"

    admin = file_phone(cloud_url, tmp_path, "admin")
    await sign_up_verified(admin, cloud_mailbox, admin_email, "Admin", PASSWORD)
    await keyway_core.log_in_with_password(admin, admin_email, PASSWORD)
    assert await admin.auth().is_logged_in()
    site = await admin.admin().create_site(f"Python site {run}", 60)
    assert len(site.authority_public_key) == 65
    locks = await keyway_core.install_simulated_locks(
        admin, site.site_id, site.authority_public_key, ["Front", "Back"]
    )
    front, back = locks.lock_ids()
    tenant = await admin.admin().add_person(site.site_id, tenant_email, "Tenant", SiteRole.USER)
    assert tenant.role == SiteRole.USER
    assert tenant.status == PersonStatus.INVITED, "a new address is invited, never given a password by the admin"
    group = await admin.admin().create_access_group(
        site.site_id, "Tenants", [front], [tenant.user_id], []
    )
    assert list(group.user_ids) == [tenant.user_id]

    # A tag profile crosses the bindings as keyway-api's PersonView: no e-mail, the phone in
    # E.164, and its keypad PIN goes by text message, never shown to the admin.
    cleaner = await admin.admin().add_tag_profile(site.site_id, "Night cleaner", "+44 20 7946 0958")
    assert cleaner.profile == Profile.TAG
    assert cleaner.email is None and cleaner.phone == "+442079460958"
    assert cleaner.status == PersonStatus.ACTIVE
    tags = await admin.admin().list_people(
        site.site_id,
        PeopleListRequest(
            limit=None, cursor=None, search=None, role=None, invited=None, tag_profiles=True
        ),
    )
    assert [person.user_id for person in tags.people] == [cleaner.user_id]
    made = await admin.remote().new_keypad_pin(site.site_id, cleaner.user_id)
    assert made.delivery == PinDelivery.TEXT_MESSAGE and made.pin is None

    store = InMemorySecureStore()
    tenant_phone = phone(cloud_url, tmp_path, "tenant", store, locks.transport())
    assert not await tenant_phone.auth().is_logged_in()
    await sign_up_verified(tenant_phone, cloud_mailbox, tenant_email, "Tenant", PASSWORD)
    await keyway_core.log_in_with_password(tenant_phone, tenant_email, PASSWORD)
    assert await tenant_phone.auth().is_logged_in()
    assert TOKENS_KEY in store.keys(), "the session is in the Python store"
    assert store.calls["put"] >= 2, store.calls

    device = await tenant_phone.devices().register()
    assert await tenant_phone.devices().current_device_id() == device.device_id
    synced = await tenant_phone.wallet().sync()
    assert (synced.keys, synced.added) == (1, 1)
    [key] = await tenant_phone.wallet().keys()
    assert key.site_id == site.site_id
    assert [lock.lock_id for lock in key.locks] == [front]
    assert key.locks[0].name == "Front"
    assert key.valid_now

    report = await tenant_phone.wallet().unlock(front)
    assert report.granted, (report.refusal, report.refusal_message)
    assert report.refusal is None
    event = locks.events(front)[-1]
    assert event.granted
    assert event.user_id == tenant.user_id
    assert event.credential_id == key.credential_id
    assert locks.events(back) == [], "nothing happened at the back door"
    with pytest.raises(KeywayError.NotAllowed):
        await tenant_phone.wallet().unlock(back)

    assert await tenant_phone.events().pending() == 1
    uploaded = await tenant_phone.events().upload()
    assert (uploaded.stored, uploaded.duplicates, uploaded.rejected) == (1, 0, 0)
    assert await tenant_phone.events().pending() == 0

    # The session lives in the Python store: another core over it is logged in too.
    again = phone(cloud_url, tmp_path, "tenant-again", store)
    assert await again.auth().is_logged_in()
    await tenant_phone.auth().logout()
    assert not await tenant_phone.auth().is_logged_in()
    assert TOKENS_KEY not in store.keys(), "logout deletes the tokens"


@pytest.mark.asyncio
async def test_wrong_password_raises_not_allowed(cloud_url, cloud_mailbox, tmp_path):
    email = f"someone-{stamp()}@python.test"
    someone = phone(cloud_url, tmp_path, "someone", InMemorySecureStore())
    await sign_up_verified(someone, cloud_mailbox, email, "Someone", PASSWORD)
    with pytest.raises(KeywayError.NotAllowed):
        await keyway_core.log_in_with_password(someone, email, "not the password")
    assert not await someone.auth().is_logged_in()
    with pytest.raises(KeywayError.ReLogin):
        await someone.devices().register()
    await keyway_core.log_in_with_password(someone, email, PASSWORD)
    assert await someone.auth().is_logged_in()


@pytest.mark.asyncio
async def test_unknown_simulated_lock_raises_invalid_input(cloud_url, cloud_mailbox, tmp_path):
    email = f"owner-{stamp()}@python.test"
    owner = file_phone(cloud_url, tmp_path, "owner")
    await sign_up_verified(owner, cloud_mailbox, email, "Owner", PASSWORD)
    await keyway_core.log_in_with_password(owner, email, PASSWORD)
    site = await owner.admin().create_site("Python site", 0)
    locks = await keyway_core.install_simulated_locks(
        owner, site.site_id, site.authority_public_key, ["Only"]
    )
    assert len(locks.lock_ids()) == 1
    with pytest.raises(KeywayError.InvalidInput):
        locks.events(0)
    with pytest.raises(KeywayError.InvalidInput):
        locks.set_lock_clock(0, 0)
