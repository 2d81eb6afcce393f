"""A SHA-256 whose state can be exported at any offset and resumed in another process: hashing in links.

`hashlib` objects cannot be serialised, so the hash runs on OpenSSL's own `SHA256_CTX` through `ctypes`,
found through the library `hashlib` itself is linked against: the same machine code as `hashlib.sha256`
(SHA-NI / ARMv8 SHA instructions), with the GIL released during each update, and no dependency to ship.
The exported state is a portable, canonical form (FIPS 180-4's eight chaining words, the byte count and the
unhashed tail of the last block), never the C struct's bytes. docs/design.md says why this mechanism and
what breaks it; a layout check at first use refuses to hash rather than produce a wrong digest.
"""

from __future__ import annotations

import _hashlib
import ctypes
import ctypes.util
import functools
import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

BLOCK_BYTES = 64
DIGEST_BYTES = 32
STATE_FORMAT = 1
# Format byte, eight big-endian 32-bit chaining words, the big-endian 64-bit count of bytes hashed.
_HEADER = struct.Struct(">B8IQ")
STATE_HEADER_BYTES = _HEADER.size  # 41
MAX_STATE_BYTES = STATE_HEADER_BYTES + BLOCK_BYTES - 1  # 104: far inside the 1 KiB a checkpoint may take
# SHA-256 counts the message in bits in 64 bits (FIPS 180-4 5.1.1): at most 2**61 - 1 bytes.
MAX_MESSAGE_BYTES = 2**61 - 1
_INITIAL_HASH = (
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
)  # fmt: skip


class InvalidHashState(ValueError):
    """A checkpoint whose state cannot be a SHA-256 state at its offset; the message says which rule."""


class Sha256StateUnavailable(RuntimeError):
    """This Python's OpenSSL offers no usable `SHA256_CTX` (docs/design.md: what breaks it)."""


def state_length(offset: int) -> int:
    """The exact length of the exported state after `offset` bytes: the header plus the partial block."""
    return STATE_HEADER_BYTES + offset % BLOCK_BYTES


@dataclass(frozen=True)
class HashCheckpoint:
    """How far a hash got: `offset`, the next byte to hash, and the SHA-256 `state` after the bytes before it.

    Constructing one checks the state against the offset (length, format, byte count), so a checkpoint
    that exists is one `ResumableSha256` can resume; a wrong one raises `InvalidHashState`.
    """

    offset: int
    state: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.offset, bool) or not isinstance(self.offset, int):
            raise InvalidHashState("checkpoint offset must be an integer")
        if not 0 <= self.offset <= MAX_MESSAGE_BYTES:
            raise InvalidHashState(f"checkpoint offset {self.offset} is outside 0..2**61-1")
        if not isinstance(self.state, bytes):
            raise InvalidHashState("checkpoint state must be bytes")
        expected = state_length(self.offset)
        if len(self.state) != expected:
            raise InvalidHashState(
                f"checkpoint state has {len(self.state)} bytes; at offset {self.offset} it has {expected}"
            )
        form, *_words, count = _HEADER.unpack_from(self.state)
        if form != STATE_FORMAT:
            raise InvalidHashState(f"checkpoint state format {form} is not {STATE_FORMAT}")
        if count != self.offset:
            raise InvalidHashState(f"checkpoint state counts {count} bytes, its offset says {self.offset}")

    @classmethod
    def start(cls) -> HashCheckpoint:
        """The state before any byte: offset 0."""
        return cls(0, _HEADER.pack(STATE_FORMAT, *_INITIAL_HASH, 0))


class _Sha256Ctx(ctypes.Structure):
    """OpenSSL's `SHA256_CTX` (openssl/sha.h, unchanged from 0.9.8 to 3.x): `SHA_LONG` is 32 bits."""

    _fields_ = [
        ("h", ctypes.c_uint32 * 8),
        ("Nl", ctypes.c_uint32),  # bits hashed, low word
        ("Nh", ctypes.c_uint32),  # bits hashed, high word
        ("data", ctypes.c_uint8 * BLOCK_BYTES),  # the partial block, as bytes
        ("num", ctypes.c_uint32),  # bytes in `data`
        ("md_len", ctypes.c_uint32),
    ]


_CTX_BYTES = 112


@dataclass(frozen=True)
class _Libcrypto:
    init: Callable[..., int]
    update: Callable[..., int]
    final: Callable[..., int]
    source: str


def _library_candidates() -> list[str]:
    """`_hashlib` first: `dlsym` on it also searches the libcrypto it links, so the digest code is the
    very code `hashlib.sha256` runs. Then the system's libcrypto by name."""
    candidates = [str(_hashlib.__file__)]
    found = ctypes.util.find_library("crypto")
    if found:
        candidates.append(found)
    candidates.extend(["libcrypto.so.3", "libcrypto.so.1.1"])
    return candidates


def _bind(path: str) -> _Libcrypto | None:
    try:
        library = ctypes.CDLL(path)
        init, update, final = library.SHA256_Init, library.SHA256_Update, library.SHA256_Final
    except (OSError, AttributeError):
        return None
    init.argtypes = [ctypes.POINTER(_Sha256Ctx)]
    update.argtypes = [ctypes.POINTER(_Sha256Ctx), ctypes.c_char_p, ctypes.c_size_t]
    final.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Sha256Ctx)]
    for function in (init, update, final):
        function.restype = ctypes.c_int
    return _Libcrypto(init, update, final, path)


@functools.cache
def libcrypto() -> _Libcrypto:
    """The bound SHA256_* functions, checked once against `hashlib` and FIPS 180-4's initial values;
    raises `Sha256StateUnavailable` naming what failed."""
    if ctypes.sizeof(_Sha256Ctx) != _CTX_BYTES:  # pragma: no cover - a C ABI with another int size
        raise Sha256StateUnavailable(f"SHA256_CTX would be {ctypes.sizeof(_Sha256Ctx)} bytes, not 112")
    problems: list[str] = []
    for path in _library_candidates():
        bound = _bind(path)
        if bound is None:
            problems.append(f"{path}: no SHA256_Init/Update/Final")
            continue
        problem = _layout_problem(bound)
        if problem is None:
            return bound
        problems.append(f"{path}: {problem}")
    raise Sha256StateUnavailable("no usable OpenSSL SHA256_CTX: " + "; ".join(problems))


def _layout_problem(bound: _Libcrypto) -> str | None:
    """Whether the struct is laid out as assumed: the initial words, the counts and the partial block
    read back as expected, and an exported state resumed elsewhere ends at `hashlib`'s digest."""
    probe = bytes(range(151))
    ctx = _Sha256Ctx()
    if bound.init(ctypes.byref(ctx)) != 1 or tuple(ctx.h) != _INITIAL_HASH or ctx.md_len != DIGEST_BYTES:
        return "SHA256_Init did not give FIPS 180-4's initial state"
    bound.update(ctypes.byref(ctx), probe[:70], 70)
    if (ctx.Nl, ctx.Nh, ctx.num, bytes(ctx.data[:6])) != (560, 0, 6, probe[64:70]):
        return "SHA256_CTX fields are not where openssl/sha.h puts them"
    resumed = ResumableSha256(_export(ctx), bound)
    resumed.update(probe[70:])
    if resumed.hexdigest() != hashlib.sha256(probe).hexdigest():
        return "a resumed state did not give hashlib's digest"
    return None


def _export(ctx: _Sha256Ctx) -> HashCheckpoint:
    count = int((ctx.Nh << 32) | ctx.Nl) >> 3
    return HashCheckpoint(count, _HEADER.pack(STATE_FORMAT, *ctx.h, count) + bytes(ctx.data[: ctx.num]))


class ResumableSha256:
    """SHA-256 that can hand over its state: `update` as hashlib's, `checkpoint()` to export, a
    `HashCheckpoint` to resume. One thread at a time per object, as with hashlib."""

    name = "sha256"
    digest_size = DIGEST_BYTES
    block_size = BLOCK_BYTES

    def __init__(self, checkpoint: HashCheckpoint | None = None, library: _Libcrypto | None = None) -> None:
        self._library = library or libcrypto()
        self._ctx = _Sha256Ctx()
        self._library.init(ctypes.byref(self._ctx))  # md_len and anything else OpenSSL sets
        if checkpoint is not None and checkpoint.offset:
            _form, *words, count = _HEADER.unpack_from(checkpoint.state)
            tail = checkpoint.state[STATE_HEADER_BYTES:]
            bits = count * 8
            self._ctx.h[:] = words
            self._ctx.Nl, self._ctx.Nh = bits & 0xFFFFFFFF, bits >> 32
            ctypes.memmove(self._ctx.data, tail, len(tail))
            self._ctx.num = len(tail)

    @property
    def offset(self) -> int:
        """Bytes hashed so far, those before any checkpoint this resumed from included."""
        return int((self._ctx.Nh << 32) | self._ctx.Nl) >> 3

    def update(self, data: bytes | bytearray | memoryview, /) -> None:
        chunk = data if isinstance(data, bytes) else bytes(data)
        if chunk:
            self._library.update(ctypes.byref(self._ctx), chunk, len(chunk))

    def checkpoint(self) -> HashCheckpoint:
        """The state after every byte so far, to resume elsewhere; this object can go on hashing."""
        return _export(self._ctx)

    def digest(self) -> bytes:
        """The digest of every byte so far; like hashlib, this object can go on hashing."""
        finished = _Sha256Ctx.from_buffer_copy(self._ctx)
        out = ctypes.create_string_buffer(DIGEST_BYTES)
        self._library.final(out, ctypes.byref(finished))
        return out.raw

    def hexdigest(self) -> str:
        return self.digest().hex()
