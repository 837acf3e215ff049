"""The smallest round trip: a string from Rust."""

import re

import keyway_core


def test_version_is_semver():
    version = keyway_core.keyway_core_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+([-+].*)?", version), version
