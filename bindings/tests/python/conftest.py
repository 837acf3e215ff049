"""Shared fixtures: the protocol test vectors and the cloud `cargo xtask test python` started."""

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


def _cloud_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run through `cargo xtask test python`, which starts a cloud")
    return value


@pytest.fixture(scope="session")
def cloud_url() -> str:
    """The base URL of the cloud started for this run (`KEYWAY_CLOUD_URL`)."""
    return _cloud_env("KEYWAY_CLOUD_URL")


@pytest.fixture(scope="session")
def cloud_mailbox() -> Path:
    """That cloud's local mailbox (`KEYWAY_CLOUD_MAILBOX`): the e-mails it delivered."""
    return Path(_cloud_env("KEYWAY_CLOUD_MAILBOX"))
