"""A whole unlock through the bindings: site authority, simulated BLE locks, this phone's key."""

import time

import pytest

import keyway_core
from keyway_core import KeywayError, RefusalAdvice, SimulatedSite
from keyway_protocol import RefusalReason


def test_issued_key_fields():
    site = SimulatedSite([1, 2])
    before = int(time.time())
    info = keyway_core.inspect_credential(site.issue_key([1], 3600))
    assert list(info.lock_ids) == [1]
    assert info.not_before <= before
    assert before + 3600 <= info.not_after <= before + 3660
    assert info.master_key is False


@pytest.mark.asyncio
async def test_key_opens_its_lock_in_two_writes():
    site = SimulatedSite([1, 2])
    key = site.issue_key([1], 3600)
    info = keyway_core.inspect_credential(key)
    before = len(site.lock_events(1))
    report = await site.unlock(1, key)
    assert report.lock_id == 1
    assert report.granted, (report.refusal, report.refusal_message)
    assert report.refusal is None and report.refusal_message is None
    assert report.writes == 2, "ATT writes at MTU 185"
    assert report.bytes_written > 0 and report.bytes_notified > 0
    assert report.connect_ms >= 0 and report.handshake_ms >= 0 and report.actuate_ms > 0
    events = site.lock_events(1)
    assert len(events) == before + 1
    assert events[-1].granted is True
    assert events[-1].refusal is None
    assert events[-1].credential_id == info.credential_id
    assert events[-1].user_id == info.user_id


@pytest.mark.asyncio
async def test_key_is_refused_on_another_lock():
    site = SimulatedSite([1, 2])
    key = site.issue_key([1], 3600)
    before = len(site.lock_events(2))
    report = await site.unlock(2, key)
    assert report.granted is False
    assert report.refusal == RefusalReason.NOT_IN_SCOPE
    assert report.advice == RefusalAdvice.NOT_ALLOWED
    assert report.refusal_message
    events = site.lock_events(2)
    assert len(events) == before + 1
    assert events[-1].granted is False
    assert events[-1].refusal == RefusalReason.NOT_IN_SCOPE


@pytest.mark.asyncio
async def test_expired_after_the_lock_clock_passes_validity():
    site = SimulatedSite([1])
    key = site.issue_key([1], 600)
    not_after = keyway_core.inspect_credential(key).not_after
    assert (await site.unlock(1, key)).granted
    site.set_lock_clock(1, not_after + 60)
    report = await site.unlock(1, key)
    assert report.granted is False
    assert report.refusal == RefusalReason.EXPIRED
    assert report.advice == RefusalAdvice.SYNC_KEYS
    assert site.lock_events(1)[-1].refusal == RefusalReason.EXPIRED


@pytest.mark.asyncio
async def test_events_grow_by_one_per_attempt():
    site = SimulatedSite([1, 2])
    key = site.issue_key([1], 3600)
    start = len(site.lock_events(1))
    for attempt in range(1, 4):
        assert (await site.unlock(1, key)).granted
        assert len(site.lock_events(1)) == start + attempt
    seqs = [e.seq for e in site.lock_events(1)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_unknown_lock_raises():
    site = SimulatedSite([1])
    with pytest.raises(KeywayError):
        site.lock_events(99)
    with pytest.raises(KeywayError):
        site.set_lock_clock(99, 0)
