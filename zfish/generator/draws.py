"""Keyed random draws: each value a pure function of (seed, field, position[, sub-stream]).

Its own module so that the engine and the scenarios share one definition of
randomness without importing each other. A splitmix64-style counter hash,
vectorised in numpy, stands in for the seed script's shared ``random`` stream:
nothing depends on the order of calls.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB

# One id per random field; never renumber them (that would change every study).
FIELD_SEX = 1
FIELD_TREATMENT = 2
FIELD_GENE = {"gene_a": 3, "gene_b": 4, "gene_c": 5}
FIELD_CONDITION = 6
FIELD_SIGNAL = 7
FIELD_LENGTH = 8
FIELD_COLOR = (9, 10, 11)  # r, g, b; drawn per (fish, age)
FIELD_NOISE_1 = 12
FIELD_NOISE_2 = 13


def _mix_int(z: int) -> int:
    """The splitmix64 finaliser on a Python int (a bijection of 64-bit words)."""
    z &= _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mix(z: U64) -> U64:
    """The splitmix64 finaliser, element-wise (uint64 arithmetic wraps, as intended)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int, field: int, sub: int = 0) -> int:
    """The key of one random field (and sub-stream, e.g. the age) under one seed."""
    return _mix_int(_mix_int(_mix_int(seed) ^ field) ^ sub)


def random_bits(seed: int, field: int, positions: U64, sub: int = 0) -> U64:
    """64 random bits per position: splitmix64 output number ``position`` of the keyed stream."""
    key = np.uint64(stream_key(seed, field, sub))
    return _mix(key + (positions + np.uint64(1)) * np.uint64(_GOLDEN))


def uniform(seed: int, field: int, positions: U64, sub: int = 0) -> F64:
    """Uniform doubles in [0, 1), 53 random bits each."""
    bits = random_bits(seed, field, positions, sub)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def randint(seed: int, field: int, positions: U64, low: int, high: int, sub: int = 0) -> I64:
    """Uniform integers in [low, high], both included (like ``random.randint``)."""
    u = uniform(seed, field, positions, sub)
    return low + np.floor(u * (high - low + 1)).astype(np.int64)


def normal(seed: int, positions: U64, sub: int = 0) -> F64:
    """Standard normal draws by Box-Muller from two keyed uniform streams."""
    u1 = uniform(seed, FIELD_NOISE_1, positions, sub)
    u2 = uniform(seed, FIELD_NOISE_2, positions, sub)
    result: F64 = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
    return result
