"""The e-mails the test cloud delivered to its local mailbox (`KEYWAY_CLOUD_MAILBOX`), read
as the person they were sent to would: the verification code of a sign-up."""

import asyncio
import json
import re
from pathlib import Path

VERIFICATION_CODE = re.compile(r"\b[0-9]{4}-[0-9]{4}\b")


async def latest_match(mailbox: Path, to: str, pattern: re.Pattern) -> str:
    """The first match of `pattern` in the latest e-mail to `to` that has one (waits up to 5 s)."""
    for _ in range(250):
        found = None
        for path in sorted(mailbox.glob("*.json")):
            if path.name.startswith("."):
                continue
            message = json.loads(path.read_text())
            match = pattern.search(message["body"]) if message["to"] == to else None
            if match:
                found = match.group(0)
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"no e-mail to {to} matching {pattern.pattern}")


async def sign_up_verified(keyway, mailbox: Path, email: str, name: str, password: str):
    """Signs up, reads the code the cloud e-mailed and confirms the address with it."""
    started = await keyway.auth().sign_up(email, name, password)
    assert started.email == email.lower()
    code = await latest_match(mailbox, email, VERIFICATION_CODE)
    account = await keyway.auth().verify_email(email, code, password)
    assert account.email == email.lower()
    return account
