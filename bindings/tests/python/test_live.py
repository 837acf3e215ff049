"""Live changes (issue 13) in Python: a `ChangeObserver` implemented in Python hears, with no
sync call from the test, that an administrator granted the phone a key and then revoked it;
the core synced the wallet before telling it."""

import asyncio
import threading
import time

import pytest

import keyway_core
from cloud_mail import sign_up_verified
from keyway_api import SiteRole
from keyway_core import ChangeObserver, Keyway, KeywayConfig

PASSWORD = "a long enough password"


class CountingObserver(ChangeObserver):
    """Counts the core's calls, made on its threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.counts = {"keys": 0, "pods": 0, "remote": 0, "ended": 0}

    def _count(self, name):
        with self._lock:
            self.counts[name] += 1

    def keys_changed(self):
        self._count("keys")

    def pods_changed(self):
        self._count("pods")

    def remote_locks_changed(self):
        self._count("remote")

    def session_ended(self):
        self._count("ended")

    def get(self, name):
        with self._lock:
            return self.counts[name]


async def within_5s(what, done):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if await done():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"{what}: not within 5 s")


def new_phone(cloud_url, base, name):
    store = keyway_core.file_secure_store(str(base / f"{name}-secrets.json"))
    config = KeywayConfig(
        server_url=cloud_url, data_dir=str(base / name), device_name=f"{name}'s Python", platform="cli"
    )
    return Keyway(config, store, keyway_core.software_device_signer(store), None)


@pytest.mark.asyncio
async def test_a_python_observer_hears_a_granted_and_a_revoked_key(cloud_url, cloud_mailbox, tmp_path):
    run = time.time_ns()
    admin_email = f"admin-live-{run}@python.test"
    tenant_email = f"tenant-live-{run}@python.test"
    admin = new_phone(cloud_url, tmp_path, "admin")
    await sign_up_verified(admin, cloud_mailbox, admin_email, "Admin", PASSWORD)
    await keyway_core.log_in_with_password(admin, admin_email, PASSWORD)
    site = await admin.admin().create_site(f"Python live site {run}", 0)
    locks = await keyway_core.install_simulated_locks(
        admin, site.site_id, site.authority_public_key, ["Front"]
    )
    [front] = locks.lock_ids()
    tenant = await admin.admin().add_person(site.site_id, tenant_email, "Tenant", SiteRole.USER)

    phone = new_phone(cloud_url, tmp_path, "tenant")
    await sign_up_verified(phone, cloud_mailbox, tenant_email, "Tenant", PASSWORD)
    await keyway_core.log_in_with_password(phone, tenant_email, PASSWORD)
    await phone.devices().register()
    observer = CountingObserver()
    phone.live().start(observer)

    async def connected():
        return observer.get("keys") >= 1

    await within_5s("the first sync of the connection", connected)
    assert phone.live().is_running()
    assert await phone.wallet().keys() == []

    told = observer.get("keys")
    group = await admin.admin().create_access_group(site.site_id, "Tenants", [front], [tenant.user_id], [])

    async def granted():
        return len(await phone.wallet().keys()) == 1 and observer.get("keys") > told

    await within_5s("the granted key", granted)

    await admin.admin().set_group_members(site.site_id, group.group_id, [])

    async def revoked():
        return await phone.wallet().keys() == []

    await within_5s("the revocation", revoked)
    assert observer.get("ended") == 0
    phone.live().stop()
    assert not phone.live().is_running()
