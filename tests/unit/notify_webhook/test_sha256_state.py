"""The resumable SHA-256 state: exported at any offset and resumed elsewhere, it ends at hashlib's digest."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notify_webhook.object_hash import sha256_state
from notify_webhook.object_hash.sha256_state import (
    MAX_STATE_BYTES,
    HashCheckpoint,
    InvalidHashState,
    ResumableSha256,
    Sha256StateUnavailable,
    state_length,
)

# FIPS 180-4 4.2.2: the round constants, for the independent finisher below.
_K = [
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
]  # fmt: skip


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & 0xFFFFFFFF


def _compress(words: list[int], block: bytes) -> list[int]:
    w = list(struct.unpack(">16I", block))
    for t in range(16, 64):
        s0 = _rotr(w[t - 15], 7) ^ _rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
        s1 = _rotr(w[t - 2], 17) ^ _rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
        w.append((w[t - 16] + s0 + w[t - 7] + s1) & 0xFFFFFFFF)
    a, b, c, d, e, f, g, h = words
    for t in range(64):
        t1 = h + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g)) + _K[t] + w[t]
        t2 = (_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))
        a, b, c, d, e, f, g, h = (t1 + t2) & 0xFFFFFFFF, a, b, c, (d + t1) & 0xFFFFFFFF, e, f, g
    return [(x + y) & 0xFFFFFFFF for x, y in zip(words, (a, b, c, d, e, f, g, h), strict=True)]


def finish_in_python(checkpoint: HashCheckpoint, rest: bytes) -> str:
    """FIPS 180-4 by hand from an exported state: an independent reading of the state's format."""
    _form, *words, count = struct.unpack_from(">B8IQ", checkpoint.state)
    message = checkpoint.state[41:] + rest
    total = count + len(rest)
    message += b"\x80" + b"\x00" * ((55 - total) % 64) + struct.pack(">Q", total * 8)
    for start in range(0, len(message), 64):
        words = _compress(words, message[start : start + 64])
    return struct.pack(">8I", *words).hex()


def resumed_through(data: bytes, cuts: list[int]) -> ResumableSha256:
    """Hash `data` with a fresh object at every cut, each resumed from the previous one's checkpoint."""
    checkpoint: HashCheckpoint | None = None
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        hasher = ResumableSha256(checkpoint)
        hasher.update(data[start:cut])
        checkpoint, start = hasher.checkpoint(), cut
    return hasher


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=700), cut_fractions=st.lists(st.floats(0, 1), max_size=6))
def test_state_resumed_at_random_splits_gives_hashlibs_digest(
    data: bytes, cut_fractions: list[float]
) -> None:
    cuts = [int(f * len(data)) for f in cut_fractions]
    hasher = resumed_through(data, cuts)
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert hasher.offset == len(data)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300), cut=st.integers(0, 300))
def test_exported_state_is_the_standard_fips_state(data: bytes, cut: int) -> None:
    """A SHA-256 written from FIPS 180-4 alone finishes the exported state to hashlib's digest."""
    cut = min(cut, len(data))
    hasher = ResumableSha256()
    hasher.update(data[:cut])
    assert finish_in_python(hasher.checkpoint(), data[cut:]) == hashlib.sha256(data).hexdigest()


@given(offset=st.integers(0, 2**40))
def test_state_is_small_and_its_length_follows_the_offset(offset: int) -> None:
    assert state_length(offset) == 41 + offset % 64 <= MAX_STATE_BYTES <= 1024


def test_checkpoint_beyond_4_gib_of_bits_keeps_the_high_count_word() -> None:
    """A count past 2**32 bits (512 MiB) lives in `Nh`: a state there resumes and finishes correctly."""
    start = ResumableSha256()
    start.update(b"x" * 100)
    words = start.checkpoint().state[1:33]
    offset = 5 * 2**40 + 100  # 5 TiB and a bit
    checkpoint = HashCheckpoint(offset, b"\x01" + words + struct.pack(">Q", offset) + b"x" * (offset % 64))
    resumed = ResumableSha256(checkpoint)
    assert resumed.offset == offset
    assert resumed.checkpoint() == checkpoint
    resumed.update(b"tail")
    assert resumed.hexdigest() == finish_in_python(checkpoint, b"tail")


def test_start_is_the_state_before_any_byte() -> None:
    assert ResumableSha256().checkpoint() == HashCheckpoint.start()
    assert ResumableSha256(HashCheckpoint.start()).hexdigest() == hashlib.sha256(b"").hexdigest()


def test_digest_does_not_end_the_hash() -> None:
    hasher = ResumableSha256()
    hasher.update(b"abc")
    assert hasher.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    hasher.update(bytearray(b"def"))
    hasher.update(memoryview(b"ghi"))
    assert hasher.digest() == hashlib.sha256(b"abcdefghi").digest()


def _valid(offset: int) -> HashCheckpoint:
    hasher = ResumableSha256()
    hasher.update(bytes(offset))
    return hasher.checkpoint()


@pytest.mark.parametrize(
    ("offset", "state", "reason"),
    [
        (70, _valid(70).state[:-1], "has 46 bytes; at offset 70 it has 47"),
        (70, _valid(70).state + b"\x00", "has 48 bytes; at offset 70 it has 47"),
        (64, _valid(70).state, "at offset 64 it has 41"),
        (0, b"", "has 0 bytes"),
        (70, b"\x02" + _valid(70).state[1:], "format 2 is not 1"),
        (134, _valid(70).state, "counts 70 bytes, its offset says 134"),
        (-1, _valid(0).state, "outside"),
        (2**61, _valid(0).state, "outside"),
        (True, _valid(1).state, "must be an integer"),
    ],
)
def test_a_wrong_checkpoint_is_refused_saying_why(offset: int, state: bytes, reason: str) -> None:
    with pytest.raises(InvalidHashState, match=reason):
        HashCheckpoint(offset, state)


def test_the_state_stays_out_of_the_checkpoints_repr() -> None:
    assert "state" not in repr(_valid(3))


def test_a_library_without_sha256_ctx_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    libc = ctypes.util.find_library("c")
    assert libc is not None
    monkeypatch.setattr(sha256_state, "_library_candidates", lambda: [libc, "/nonexistent/libcrypto.so"])
    sha256_state.libcrypto.cache_clear()
    try:
        with pytest.raises(Sha256StateUnavailable, match="no SHA256_Init/Update/Final"):
            sha256_state.libcrypto()
    finally:
        sha256_state.libcrypto.cache_clear()


def test_a_struct_laid_out_otherwise_is_refused_rather_than_trusted() -> None:
    real = sha256_state.libcrypto()
    silent = sha256_state._Libcrypto(init=lambda _ctx: 1, update=real.update, final=real.final, source="fake")
    assert sha256_state._layout_problem(silent) == "SHA256_Init did not give FIPS 180-4's initial state"
    shifted = sha256_state._Libcrypto(
        init=real.init,
        update=lambda ctx, data, size: real.update(ctx, data[1:], size - 1),
        final=real.final,
        source="fake",
    )
    assert sha256_state._layout_problem(shifted) == "SHA256_CTX fields are not where openssl/sha.h puts them"
    assert sha256_state._layout_problem(real) is None
