"""IQ codes against protocol/vectors/iq_code.json."""

import time

import pytest

import keyway_core
from keyway_core import KeywayError


def secret(vector):
    return bytes.fromhex(vector["secret_hex"])


def test_every_vector_case(iq_vector):
    cases = iq_vector["cases"]
    assert cases, "no cases in iq_code.json"
    for case in cases:
        got = keyway_core.iq_code_at(secret(iq_vector), case["unix_seconds"])
        assert got.code == case["code"], case
        assert got.step == case["step"], case
        assert got.seconds_left == case["seconds_left"], case


def test_codes_use_the_alphabet(iq_vector):
    for case in iq_vector["cases"]:
        code = keyway_core.iq_code_at(secret(iq_vector), case["unix_seconds"]).code
        assert len(code) == 5
        assert set(code) <= set(iq_vector["alphabet"]), code


def test_matching_step_window(iq_vector):
    s = secret(iq_vector)
    step_seconds = iq_vector["step_seconds"]
    checked = 0
    for case in iq_vector["cases"]:
        step, code = case["step"], case["code"]
        if step < 2:
            continue
        start = step * step_seconds
        assert keyway_core.iq_code_matching_step(s, code, start) == step
        assert keyway_core.iq_code_matching_step(s, code, start - step_seconds) == step
        assert keyway_core.iq_code_matching_step(s, code, start + step_seconds) == step
        assert keyway_core.iq_code_matching_step(s, code, start + 2 * step_seconds) is None
        assert keyway_core.iq_code_matching_step(s, code, start - 2 * step_seconds) is None
        checked += 1
    assert checked > 0


def test_wrong_code_matches_nothing(iq_vector):
    alphabet = iq_vector["alphabet"]
    case = iq_vector["cases"][-1]
    code = case["code"]
    wrong = (alphabet[1] if code[0] == alphabet[0] else alphabet[0]) + code[1:]
    assert keyway_core.iq_code_matching_step(secret(iq_vector), wrong, case["unix_seconds"]) is None


def test_code_now(iq_vector):
    s = secret(iq_vector)
    step_seconds = iq_vector["step_seconds"]
    before = int(time.time())
    now = keyway_core.iq_code_now(s)
    after = int(time.time())
    assert before // step_seconds <= now.step <= after // step_seconds
    assert now.code == keyway_core.iq_code_at(s, now.step * step_seconds).code
    assert 1 <= now.seconds_left <= step_seconds


@pytest.mark.parametrize("length", [0, 1, 15])
def test_short_secret_is_invalid_input(length):
    short = bytes(range(length))
    with pytest.raises(KeywayError.InvalidInput):
        keyway_core.iq_code_at(short, 0)
    with pytest.raises(KeywayError.InvalidInput):
        keyway_core.iq_code_now(short)
    with pytest.raises(KeywayError.InvalidInput):
        keyway_core.iq_code_matching_step(short, "ABCDE", 0)
