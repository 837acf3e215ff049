"""Diagnostics (issue 11, item 5) in Python: a `LogSink` implemented in Python receives the
core's records during a sign-up, login and device registration at trace level, and none holds the password or the
verification code."""

import threading
import time

import pytest

import keyway_core
from cloud_mail import VERIFICATION_CODE, latest_match, sign_up_verified
from keyway_core import Keyway, KeywayConfig, LogLevel, LogSink

PASSWORD = "a long enough password"


class CollectingLogSink(LogSink):
    """Every record the core sent, from any of its threads."""

    def __init__(self):
        self.records = []
        self._lock = threading.Lock()

    def log(self, record):
        with self._lock:
            self.records.append(record)

    def lines(self):
        with self._lock:
            return [f"{r.level} {r.target} {r.message}" for r in self.records]


@pytest.mark.asyncio
async def test_a_python_sink_receives_the_login_records_and_no_secret(cloud_url, cloud_mailbox, tmp_path):
    sink = CollectingLogSink()
    assert keyway_core.init_logging(sink, LogLevel.TRACE), "the core's subscriber is installed"
    email = f"logs-{time.time_ns()}@python.test"
    store = keyway_core.file_secure_store(str(tmp_path / "secrets.json"))
    config = KeywayConfig(
        server_url=cloud_url, data_dir=str(tmp_path / "phone"), device_name="Logs", platform="cli"
    )
    phone = Keyway(config, store, keyway_core.software_device_signer(store), None)
    await sign_up_verified(phone, cloud_mailbox, email, "Logs", PASSWORD)
    await keyway_core.log_in_with_password(phone, email, PASSWORD)
    assert await phone.auth().is_logged_in()
    await phone.devices().register()

    code = await latest_match(cloud_mailbox, email, VERIFICATION_CODE)
    lines = sink.lines()
    for expected in ["login started", "login finished", "e-mail address verified"]:
        assert any(
            r.target.startswith("keyway_core::auth") and expected in r.message for r in sink.records
        ), f"no auth record with {expected!r} in {len(lines)} records"
    assert any(r.target == "keyway_core::devices" and "device registered" in r.message for r in sink.records)
    assert any(r.level == LogLevel.TRACE for r in sink.records), "trace records are forwarded"
    for secret in [PASSWORD, code, code.replace("-", "")]:
        assert not any(secret in line for line in lines), "a secret reached the log"
    keyway_core.init_logging(sink, LogLevel.WARN)
