"""An independent check of protocol/vectors/*.json, written from docs/protocol.md alone.

No Keyway code: only the `cryptography` package and the standard library. Every constant
below is one the spec states (a test checks each appears in docs/protocol.md when the
repository is at hand). Every vector is re-derived: keys from their private scalars, ECDH,
HKDF, AES-256-GCM open and seal, ECDSA signatures (fixed 64-byte r || s), the event hash
chain, mailbox updates, credentials, framing and IQ codes.
"""

import copy
import hashlib
import hmac
import json
import struct
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import load_der_private_key

from conftest import vectors_dir

# ---- constants from docs/protocol.md -----------------------------------------------------

LABEL_CREDENTIAL = b"KEYWAY-CREDENTIAL-V1"
LABEL_UNLOCK = b"KEYWAY-UNLOCK-V1"
LABEL_EVENT = b"KEYWAY-EVENT-V1"
LABEL_MAILBOX = b"KEYWAY-MAILBOX-V1"
LABEL_SESSION_KEY = b"KEYWAY-SESSION-KEY-V1"
LABEL_IQ_CODE = b"KEYWAY-IQ-CODE-V1"

TYPE_CHALLENGE, TYPE_REQUEST, TYPE_RESPONSE, TYPE_ABORT = 1, 2, 3, 4
PROTOCOL_VERSION = 1
FRAME_VERSION = 1
CREDENTIAL_VERSION = 1
EVENT_VERSION = 1
MAILBOX_VERSION = 1
COMMANDS = {1, 2, 3}
REFUSAL_CODES = range(1, 18)  # 17 reasons
COMMAND_NOT_ALLOWED, MALFORMED_FRAME = 14, 1

AEAD_NONCE = bytes(12)
RESPONSE_AAD = bytes([TYPE_RESPONSE, PROTOCOL_VERSION])  # 03 01
NONCE_LEN = 16
KEY_LEN = 65
SIG_LEN = 64
EVENT_LEN = 132
MAX_BACKLOG = 2
MAX_MAILBOX = 8
MAX_WINDOWS = 32
FLAG_MASTER, FLAG_PRIVACY, FLAG_OFFICE = 0x01, 0x02, 0x04
ALL_DAYS = 0x7F
MAX_MESSAGE = 4096
MAX_FRAGMENTS = 128
LAST = 0x80
IQ_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
IQ_STEP = 30
MAILBOX_DENY, MAILBOX_EPOCH = 1, 2


class Malformed(Exception):
    """The bytes break a rule of the spec."""


def require(condition, what):
    if not condition:
        raise Malformed(what)


# ---- reading ------------------------------------------------------------------------------


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n):
        require(self.pos + n <= len(self.data), "truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def finish(self):
        require(self.pos == len(self.data), "trailing bytes")


def load(name):
    path = vectors_dir() / name
    assert path.is_file(), f"missing test vector {path}"
    return json.loads(path.read_text())


def unh(text):
    return bytes.fromhex(text)


# ---- primitives ---------------------------------------------------------------------------


def public_key(raw: bytes) -> ec.EllipticCurvePublicKey:
    require(len(raw) == KEY_LEN and raw[0] == 0x04, "public key must be 65-byte uncompressed")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def encode_point(key) -> bytes:
    n = key.public_numbers()
    return b"\x04" + n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")


def private_key(scalar_hex: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(scalar_hex, 16), ec.SECP256R1())


def verify(key_raw: bytes, message: bytes, signature: bytes):
    """ECDSA P-256 SHA-256 with the fixed 64-byte r || s encoding (converted to DER here)."""
    require(len(signature) == SIG_LEN, "signature must be 64 bytes")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key(key_raw).verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise Malformed("bad signature") from error


def ecdh(scalar_hex: str, peer_raw: bytes) -> bytes:
    """The 32-byte x-coordinate of the shared point."""
    return private_key(scalar_hex).exchange(ec.ECDH(), public_key(peer_raw))


def session_key(shared, nonce, transcript_hash):
    info = LABEL_SESSION_KEY + transcript_hash
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=info).derive(shared)


def sha256(data):
    return hashlib.sha256(data).digest()


# ---- structures ---------------------------------------------------------------------------


def parse_credential(raw: bytes) -> dict:
    r = Reader(raw)
    require(r.u8() == CREDENTIAL_VERSION, "credential version")
    flags = r.u8()
    require(flags & ~(FLAG_MASTER | FLAG_PRIVACY | FLAG_OFFICE) == 0, "unknown flag bits")
    fields = {
        "credential_id": r.u64(),
        "site_id": r.u32(),
        "user_id": r.u32(),
        "revocation_epoch": r.u32(),
        "not_before": r.i64(),
        "not_after": r.i64(),
    }
    device = r.take(KEY_LEN)
    require(device[0] == 0x04, "device key form")
    fields["device_public_key_hex"] = device.hex()
    lock_count = r.u8()
    require(lock_count >= 1, "no lock")
    fields["lock_ids"] = [r.u32() for _ in range(lock_count)]
    window_count = r.u8()
    require(window_count <= MAX_WINDOWS, "too many windows")
    schedule = []
    for _ in range(window_count):
        days, start, end = r.u8(), r.u16(), r.u16()
        require(days != 0 and days & ~ALL_DAYS == 0, "window days")
        require(start < end <= 1440, "window times")
        schedule.append({"days": days, "start_minute": start, "end_minute": end})
    fields["schedule"] = schedule
    body_len = r.pos
    signature = r.take(SIG_LEN)
    r.finish()
    require(fields["not_before"] < fields["not_after"], "validity period")
    fields["master_key"] = bool(flags & FLAG_MASTER)
    fields["privacy_override"] = bool(flags & FLAG_PRIVACY)
    fields["office_mode"] = bool(flags & FLAG_OFFICE)
    return {"fields": fields, "flags": flags, "body": raw[:body_len], "signature": signature}


def check_credential(raw: bytes, authority: bytes, fields: dict, size: int):
    parsed = parse_credential(raw)
    require(len(raw) == size == 169 + 4 * len(fields["lock_ids"]) + 5 * len(fields["schedule"]), "size")
    verify(authority, LABEL_CREDENTIAL + parsed["body"], parsed["signature"])
    require(parsed["fields"] == fields, "credential fields")
    return parsed


def parse_event(raw: bytes) -> dict:
    require(len(raw) == EVENT_LEN, "event length")
    r = Reader(raw)
    require(r.u8() == EVENT_VERSION, "event version")
    e = {
        "lock_id": r.u32(),
        "seq": r.u64(),
        "time": r.i64(),
        "user_id": r.u32(),
        "credential_id": r.u64(),
        "command": r.u8(),
        "outcome": r.u8(),
        "reason": r.u8(),
        "prev_hash": r.take(32),
    }
    signature = r.take(SIG_LEN)
    r.finish()
    check_outcome(e["outcome"], e["reason"])
    e["signed_message"] = LABEL_EVENT + raw[:68]
    e["signature"] = signature
    e["hash"] = sha256(raw)
    return e


def check_outcome(outcome, reason):
    require((outcome, reason) == (1, 0) or (outcome == 0 and reason in REFUSAL_CODES), "outcome/reason")


def parse_mailbox(raw: bytes, authority: bytes) -> dict:
    r = Reader(raw)
    require(r.u8() == MAILBOX_VERSION, "mailbox version")
    m = {"site_id": r.u32(), "lock_id": r.u32(), "serial": r.u32(), "kind": r.u8()}
    payload_len = r.u16()
    payload = r.take(payload_len)
    signed_len = r.pos
    signature = r.take(SIG_LEN)
    r.finish()
    verify(authority, LABEL_MAILBOX + raw[:signed_len], signature)
    m["signed_message"] = LABEL_MAILBOX + raw[:signed_len]
    if m["kind"] == MAILBOX_DENY:
        require(payload_len % 8 == 0 and 1 <= payload_len // 8 <= 64, "denylist size")
        m["denied"] = list(struct.unpack(f">{payload_len // 8}Q", payload))
        m["epoch"] = None
    elif m["kind"] == MAILBOX_EPOCH:
        require(payload_len == 4, "epoch size")
        m["denied"], m["epoch"] = [], struct.unpack(">I", payload)[0]
    else:
        raise Malformed("mailbox kind")
    return m


def parse_challenge(raw: bytes) -> dict:
    r = Reader(raw)
    require(r.u8() == TYPE_CHALLENGE, "challenge type")
    require(r.u8() == PROTOCOL_VERSION, "challenge version")
    c = {"lock_id": r.u32(), "nonce": r.take(NONCE_LEN), "ephemeral": r.take(KEY_LEN)}
    r.finish()
    require(len(raw) == 87, "challenge length")
    return c


def parse_request(raw: bytes) -> dict:
    r = Reader(raw)
    require(r.u8() == TYPE_REQUEST, "request type")
    require(r.u8() == PROTOCOL_VERSION, "request version")
    q = {"nonce": r.take(NONCE_LEN), "ephemeral": r.take(KEY_LEN), "command": r.u8()}
    require(q["command"] in COMMANDS, "command")
    q["credential"] = r.take(r.u16())
    count = r.u8()
    require(count <= MAX_MAILBOX, "too many mailbox updates")
    q["mailbox"] = [r.take(r.u16()) for _ in range(count)]
    q["unsigned"] = raw[: r.pos]
    q["signature"] = r.take(SIG_LEN)
    r.finish()
    return q


def parse_plaintext(raw: bytes) -> dict:
    r = Reader(raw)
    a = {"outcome": r.u8(), "reason": r.u8(), "lock_time": r.i64(), "event": r.take(EVENT_LEN)}
    check_outcome(a["outcome"], a["reason"])
    count = r.u8()
    require(count <= MAX_BACKLOG, "backlog count")
    a["backlog"] = [r.take(EVENT_LEN) for _ in range(count)]
    r.finish()
    require(len(raw) == 143 + EVENT_LEN * count, "plaintext length")
    return a


def fragment(message: bytes, mtu: int) -> list:
    require(mtu >= 23 and 1 <= len(message) <= MAX_MESSAGE, "frame input")
    payload = mtu - 3
    out, index, rest = [], 0, message
    while True:
        room = payload - (4 if index == 0 else 2)
        chunk, rest = rest[:room], rest[room:]
        marker = index | (LAST if not rest else 0)
        head = bytes([FRAME_VERSION, marker]) + (struct.pack(">H", len(message)) if index == 0 else b"")
        out.append(head + chunk)
        if not rest:
            return out
        index += 1
        require(index < MAX_FRAGMENTS, "too many fragments")


def reassemble(fragments: list) -> bytes:
    buffer, expected = b"", None
    for index, f in enumerate(fragments):
        require(len(f) >= 2 and f[0] == FRAME_VERSION, "frame version")
        require(f[1] & 0x7F == index, "fragment order")
        data = f[2:]
        if index == 0:
            require(len(data) >= 2, "frame length")
            expected, data = struct.unpack(">H", data[:2])[0], data[2:]
            require(1 <= expected <= MAX_MESSAGE, "frame length")
        require(len(data) >= 1 and len(buffer) + len(data) <= expected, "fragment size")
        buffer += data
        last = bool(f[1] & LAST)
        require(last == (len(buffer) == expected), "last flag")
        require(last == (index == len(fragments) - 1), "fragments after the last")
    return buffer


def iq_code(secret: bytes, step: int) -> str:
    require(len(secret) >= 16, "IQ secret too short")
    tag = hmac.new(secret, LABEL_IQ_CODE + struct.pack(">Q", step), hashlib.sha256).digest()
    v = struct.unpack(">I", tag[:4])[0]
    return "".join(IQ_ALPHABET[(v >> (27 - 5 * i)) & 31] for i in range(5))


# ---- the checkers -------------------------------------------------------------------------


def check_keys(keys: dict):
    for name, k in keys.items():
        derived = encode_point(private_key(k["private_scalar_hex"]).public_key())
        require(derived.hex() == k["public_key_hex"], f"{name} scalar and public key differ")
        # The PKCS#8 document holds the same key.
        doc = load_der_private_key(unh(k["pkcs8_hex"]), password=None)
        require(doc.private_numbers().private_value == int(k["private_scalar_hex"], 16), f"{name} PKCS#8")


def check_case(hs: dict, c: dict):
    keys = hs["keys"]
    authority = unh(keys["authority"]["public_key_hex"])
    device = unh(keys["device"]["public_key_hex"])
    lock_key = unh(keys["lock"]["public_key_hex"])
    challenge_raw, request_raw, answer_raw = unh(c["challenge_hex"]), unh(c["request_hex"]), unh(c["answer_hex"])
    mtu = hs["mtu"]
    for raw, frags in [
        (challenge_raw, c["challenge_fragments_hex"]),
        (request_raw, c["request_fragments_hex"]),
        (answer_raw, c["answer_fragments_hex"]),
    ]:
        require([f.hex() for f in fragment(raw, mtu)] == frags, "fragments")
        require(reassemble([unh(f) for f in frags]) == raw, "reassembly")

    # Ephemeral keys from their scalars.
    for side in ("lock", "phone"):
        pub = encode_point(private_key(c[f"{side}_ephemeral_private_hex"]).public_key())
        require(pub.hex() == c[f"{side}_ephemeral_public_hex"], f"{side} ephemeral key")

    challenge = parse_challenge(challenge_raw)
    require(challenge["lock_id"] == hs["lock_id"], "lock id")
    require(challenge["nonce"].hex() == c["lock_nonce_hex"], "nonce")
    require(challenge["ephemeral"].hex() == c["lock_ephemeral_public_hex"], "lock ephemeral in challenge")

    credential = parse_credential(unh(c["credential_hex"]))
    verify(authority, LABEL_CREDENTIAL + credential["body"], credential["signature"])
    require(credential["fields"]["device_public_key_hex"] == device.hex(), "device key")
    require(credential["fields"]["site_id"] == hs["site_id"], "site")
    transcript = unh(c["signing_transcript_hex"])
    verify(device, transcript, unh(c["device_signature_hex"]))
    for update in c["mailbox_hex"]:
        parse_mailbox(unh(update), authority)

    if c["answer_kind"] == "abort":
        with pytest.raises(Malformed):
            parse_request(request_raw)
        r = Reader(answer_raw)
        require(r.u8() == TYPE_ABORT, "abort type")
        reason = r.u8()
        require(reason in REFUSAL_CODES, "abort reason")
        event_raw = r.take(EVENT_LEN)
        r.finish()
        require(len(answer_raw) == 134, "abort length")
        require((c["granted"], c["reason"]) == (False, reason), "abort outcome")
        require(event_raw.hex() == c["event_hex"] and not c["backlog_hex"], "abort event")
        require(c["session_key_hex"] is None, "no session key for an abort")
        event = parse_event(event_raw)
        verify(lock_key, event["signed_message"], event["signature"])
        require((event["outcome"], event["reason"]) == (0, reason), "abort event outcome")
        return

    require(c["answer_kind"] == "response", "answer kind")
    request = parse_request(request_raw)
    require(request["nonce"] == challenge["nonce"], "echoed nonce")
    require(request["ephemeral"].hex() == c["phone_ephemeral_public_hex"], "phone ephemeral in request")
    require(request["command"] == c["command"], "command")
    require(request["credential"].hex() == c["credential_hex"], "credential in request")
    require([m.hex() for m in request["mailbox"]] == c["mailbox_hex"], "mailbox in request")
    require(request["signature"].hex() == c["device_signature_hex"], "signature in request")
    require(LABEL_UNLOCK + challenge_raw + request["unsigned"] == transcript, "signing transcript")

    # ECDH both ways, then the key schedule.
    shared = ecdh(c["phone_ephemeral_private_hex"], challenge["ephemeral"])
    require(shared == ecdh(c["lock_ephemeral_private_hex"], request["ephemeral"]), "ECDH sides differ")
    require(shared.hex() == c["ecdh_shared_secret_hex"], "ECDH shared secret")
    transcript_hash = sha256(challenge_raw + request_raw)
    require(transcript_hash.hex() == c["transcript_hash_hex"], "transcript hash")
    require((LABEL_SESSION_KEY + transcript_hash).hex() == c["hkdf_info_hex"], "HKDF info")
    key = session_key(shared, challenge["nonce"], transcript_hash)
    require(key.hex() == c["session_key_hex"], "session key")
    require(unh(c["aead_nonce_hex"]) == AEAD_NONCE and unh(c["aead_aad_hex"]) == RESPONSE_AAD, "AEAD parameters")

    # Open, then seal again: AES-GCM is deterministic for a key, nonce and input.
    require(answer_raw[0] == TYPE_RESPONSE, "response type")
    try:
        plaintext = AESGCM(key).decrypt(AEAD_NONCE, answer_raw[1:], RESPONSE_AAD)
    except Exception as error:  # cryptography raises InvalidTag
        raise Malformed("response does not open") from error
    require(plaintext.hex() == c["response_plaintext_hex"], "plaintext")
    require(bytes([TYPE_RESPONSE]) + AESGCM(key).encrypt(AEAD_NONCE, plaintext, RESPONSE_AAD) == answer_raw, "reseal")
    require(len(answer_raw) == 1 + len(plaintext) + 16, "response length")
    answer = parse_plaintext(plaintext)
    require((answer["outcome"] == 1, answer["reason"]) == (c["granted"], c["reason"]), "outcome")
    require(answer["lock_time"] == c["lock_time"], "lock time")
    require(answer["event"].hex() == c["event_hex"], "event")
    require([b.hex() for b in answer["backlog"]] == c["backlog_hex"], "backlog")
    for raw in [answer["event"], *answer["backlog"]]:
        event = parse_event(raw)
        verify(lock_key, event["signed_message"], event["signature"])
        require(event["lock_id"] == hs["lock_id"], "event lock")
    event = parse_event(answer["event"])
    require((event["outcome"], event["reason"]) == (answer["outcome"], answer["reason"]), "event outcome")
    require(event["command"] == c["command"], "event command")
    require(event["user_id"] == credential["fields"]["user_id"], "event user")
    require(event["credential_id"] == credential["fields"]["credential_id"], "event credential")


def check_handshake(hs: dict):
    check_keys(hs["keys"])
    require(hs["cases"], "no sessions")
    for c in hs["cases"]:
        check_case(hs, c)


def check_events(ev: dict, hs: dict):
    lock_key = unh(ev["lock_public_key_hex"])
    require(ev["lock_public_key_hex"] == hs["keys"]["lock"]["public_key_hex"], "lock key")
    previous_seq, previous_hash = 0, bytes(32)
    for record in ev["records"]:
        raw = unh(record["record_hex"])
        e = parse_event(raw)
        verify(lock_key, e["signed_message"], e["signature"])
        require(e["signed_message"].hex() == record["signed_message_hex"], "event signed message")
        require(e["lock_id"] == ev["lock_id"], "foreign record")
        require(e["seq"] == previous_seq + 1, "gap or reorder")
        require(e["prev_hash"] == previous_hash, "broken link")
        require(e["hash"].hex() == record["hash_hex"], "record hash")
        for name in ("seq", "time", "user_id", "credential_id", "command", "outcome", "reason"):
            require(e[name] == record[name], f"event {name}")
        require(e["prev_hash"].hex() == record["prev_hash_hex"], "prev hash")
        previous_seq, previous_hash = e["seq"], e["hash"]
    require((previous_seq, previous_hash.hex()) == (ev["head_seq"], ev["head_hash_hex"]), "chain head")
    records = {r["record_hex"] for r in ev["records"]}
    for c in hs["cases"]:
        require(c["event_hex"] in records and set(c["backlog_hex"]) <= records, "session records in the chain")


def check_mailbox(mb: dict):
    authority = unh(mb["authority_public_key_hex"])
    require(mb["updates"], "no updates")
    for u in mb["updates"]:
        m = parse_mailbox(unh(u["update_hex"]), authority)
        require(m["signed_message"].hex() == u["signed_message_hex"], "mailbox signed message")
        for name in ("site_id", "lock_id", "serial", "kind", "epoch"):
            require(m[name] == u[name], f"mailbox {name}")
        require(m["denied"] == u["denied_credential_ids"], "denied ids")


def check_frames(fr: dict):
    require(fr["frame_version"] == FRAME_VERSION, "frame version")
    message = unh(fr["message_hex"])
    for case in fr["cases"]:
        frags = [unh(f) for f in case["fragments_hex"]]
        require(all(len(f) <= case["mtu"] - 3 for f in frags), "fragment too big for the MTU")
        require(fragment(message, case["mtu"]) == frags, "fragments")
        require(reassemble(frags) == message, "reassembly")


def check_credentials(cv: dict):
    authority = unh(cv["authority_public_key_hex"])
    check_credential(unh(cv["credential_hex"]), authority, cv["fields"], cv["size_bytes"])
    for v in cv["variants"]:
        parsed = check_credential(unh(v["credential_hex"]), authority, v["fields"], v["size_bytes"])
        require(parsed["flags"] == v["flags_byte"], "flags byte")


def check_iq(iq: dict):
    require(iq["alphabet"] == IQ_ALPHABET and iq["step_seconds"] == IQ_STEP, "IQ constants")
    secret = unh(iq["secret_hex"])
    require(iq["cases"], "no IQ cases")
    for case in iq["cases"]:
        step = case["unix_seconds"] // IQ_STEP
        require(step == case["step"], "IQ step")
        require(IQ_STEP - case["unix_seconds"] % IQ_STEP == case["seconds_left"], "IQ seconds left")
        require(iq_code(secret, step) == case["code"], "IQ code")


# ---- tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vectors():
    names = ["handshake", "events", "mailbox", "frames", "credential", "iq_code"]
    return {name: load(f"{name}.json") for name in names}


def test_handshake_sessions(vectors):
    check_handshake(vectors["handshake"])


def test_the_sessions_cover_what_the_spec_promises(vectors):
    cases = {c["name"]: c for c in vectors["handshake"]["cases"]}
    kinds = {(c["answer_kind"], c["granted"]) for c in cases.values()}
    assert ("response", True) in kinds and ("response", False) in kinds and ("abort", False) in kinds
    assert any(c["mailbox_hex"] for c in cases.values())
    with_backlog = [c for c in cases.values() if len(c["backlog_hex"]) == 2]
    assert with_backlog and all(len(c["answer_fragments_hex"]) == 3 for c in with_backlog)
    assert len(unh(with_backlog[0]["answer_hex"])) == 424
    plain = cases["granted_unlock"]
    assert len(unh(plain["request_hex"])) == 324 and len(plain["request_fragments_hex"]) == 2
    assert len(unh(plain["answer_hex"])) == 160 and len(plain["answer_fragments_hex"]) == 1
    assert cases["refused_office_mode"]["reason"] == COMMAND_NOT_ALLOWED
    assert cases["abort_malformed"]["reason"] == MALFORMED_FRAME
    master = parse_credential(unh(cases["mailbox_master_office_mode"]["credential_hex"]))
    assert master["flags"] == FLAG_MASTER | FLAG_OFFICE


def test_event_chain(vectors):
    assert len(vectors["events"]["records"]) > 2
    check_events(vectors["events"], vectors["handshake"])


def test_mailbox_updates(vectors):
    check_mailbox(vectors["mailbox"])


def test_frames(vectors):
    check_frames(vectors["frames"])


def test_credentials(vectors):
    check_credentials(vectors["credential"])
    assert any(v["fields"]["master_key"] and v["fields"]["office_mode"] for v in vectors["credential"]["variants"])


def test_iq_codes(vectors):
    check_iq(vectors["iq_code"])


def _flip(hex_text, index):
    raw = bytearray(unh(hex_text))
    raw[index % len(raw)] ^= 0x01
    return raw.hex()


@pytest.mark.parametrize(
    "name, mutate, checker",
    [
        ("response byte", lambda v: v["handshake"]["cases"][0].update(answer_hex=_flip(v["handshake"]["cases"][0]["answer_hex"], 40)), "handshake"),
        ("request signature", lambda v: v["handshake"]["cases"][1].update(device_signature_hex=_flip(v["handshake"]["cases"][1]["device_signature_hex"], 5)), "handshake"),
        ("lock ephemeral scalar", lambda v: v["handshake"]["cases"][2].update(lock_ephemeral_private_hex=_flip(v["handshake"]["cases"][2]["lock_ephemeral_private_hex"], 31)), "handshake"),
        ("abort event", lambda v: v["handshake"]["cases"][4].update(answer_hex=_flip(v["handshake"]["cases"][4]["answer_hex"], 60)), "handshake"),
        ("event record", lambda v: v["events"]["records"][3].update(record_hex=_flip(v["events"]["records"][3]["record_hex"], 20)), "events"),
        ("mailbox update", lambda v: v["mailbox"]["updates"][0].update(update_hex=_flip(v["mailbox"]["updates"][0]["update_hex"], 17)), "mailbox"),
        ("credential", lambda v: v["credential"].update(credential_hex=_flip(v["credential"]["credential_hex"], 12)), "credential"),
        ("fragment", lambda v: v["frames"]["cases"][0]["fragments_hex"].__setitem__(1, _flip(v["frames"]["cases"][0]["fragments_hex"][1], 1)), "frames"),
        ("iq code", lambda v: v["iq_code"]["cases"][3].update(code="22222"), "iq_code"),
    ],
)
def test_a_flipped_byte_is_rejected(vectors, name, mutate, checker):
    tampered = copy.deepcopy(vectors)
    mutate(tampered)
    run = {
        "handshake": lambda: check_handshake(tampered["handshake"]),
        "events": lambda: check_events(tampered["events"], tampered["handshake"]),
        "mailbox": lambda: check_mailbox(tampered["mailbox"]),
        "credential": lambda: check_credentials(tampered["credential"]),
        "frames": lambda: check_frames(tampered["frames"]),
        "iq_code": lambda: check_iq(tampered["iq_code"]),
    }[checker]
    with pytest.raises(Malformed):
        run()


def _spec_text():
    for root in (vectors_dir().resolve().parents[1], Path(__file__).resolve().parents[3]):
        spec = root / "docs" / "protocol.md"
        if spec.is_file():
            return spec.read_text()
    return None


def test_every_constant_is_written_in_the_spec():
    spec = _spec_text()
    if spec is None:
        pytest.skip("docs/protocol.md is not next to the vectors")
    for label in (LABEL_CREDENTIAL, LABEL_UNLOCK, LABEL_EVENT, LABEL_MAILBOX, LABEL_SESSION_KEY, LABEL_IQ_CODE):
        assert label.decode() in spec and label.hex() in spec, label
    for text in (IQ_ALPHABET, "`03 01`", "12 zero bytes", "x-coordinate", "r || s", "**bit 7 (`0x80`): last fragment**", "bit 0 = Monday"):
        assert text in spec, text
