"""Shared fixtures: the protocol test vectors."""

import json
import os
from pathlib import Path

import pytest


def vectors_dir() -> Path:
    env = os.environ.get("KEYWAY_VECTORS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "protocol" / "vectors"


def load_vector(name: str) -> dict:
    path = vectors_dir() / name
    assert path.is_file(), f"missing test vector {path}"
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def iq_vector() -> dict:
    return load_vector("iq_code.json")


@pytest.fixture(scope="session")
def credential_vector() -> dict:
    return load_vector("credential.json")
