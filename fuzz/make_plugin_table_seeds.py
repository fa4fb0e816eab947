#!/usr/bin/env python3
"""Writes the seed corpus of plugin_table_fuzzer.cc into fuzz/corpus/plugin_table.

Each seed follows the harness's input layout (see plugin_table_fuzzer.cc):
the struct_size mode, abi_major, abi_minor, name, version, one bit per
function pointer slot, a status code. Run from anywhere:
  python3 fuzz/make_plugin_table_seeds.py
"""
import os
import struct

# 29 ABI 1.0 entries, `supports` (ABI 1.1), `gemm_prepare` and
# `gemm_operand_free` (ABI 1.2).
SLOTS = 32
ALL = (1 << SLOTS) - 1


def seed(size_mode, major=b"\0", minor=2, name=b"cpu", version=b"0.1.0",
         slots=ALL, code=3):
    def string(s):
        if s is None:
            return b"\0"
        if s == b"":
            return b"\1"
        assert 2 <= len(s) < 32 or len(s) + 32 < 256
        n = len(s) if len(s) >= 2 else len(s) + 32
        return bytes([n]) + s
    return (size_mode + major + struct.pack("<I", minor) + string(name) +
            string(version) + struct.pack("<I", slots) +
            struct.pack("<i", code))


SEEDS = {
    # This loader's table, every entry set.
    "abi_1_2": seed(b"\3"),
    # An ABI 1.1 table: the 1.0 size and `supports`, no prepared operands.
    "abi_1_1": seed(b"\2\x08", minor=1, slots=ALL >> 2),
    # `gemm_prepare` without `gemm_operand_free`: neither is used.
    "prepare_without_free": seed(b"\3", slots=ALL & ~(1 << 31)),
    # An ABI 1.0 table: exactly the 1.0 size, no `supports`.
    "abi_1_0": seed(b"\2\0", minor=0, slots=ALL >> 1),
    # A newer plugin: a longer table, unknown minor.
    "abi_1_9_longer": seed(b"\4\x40", minor=9),
    # `supports` present in the size but NULL.
    "supports_null": seed(b"\3", slots=ALL & ~(1 << 29)),
    # Required entries missing: the first, one in the middle.
    "no_status_code": seed(b"\3", slots=ALL & ~1),
    "no_gemm": seed(b"\3", slots=ALL & ~(1 << 20)),
    # Sizes: only the header, one byte short of it, one byte short of 1.0.
    "header_only": seed(b"\1\1"),
    "short_of_header": seed(b"\1\0"),
    "short_of_1_0": seed(b"\2\xff", minor=0),
    "size_zero": seed(b"\5"),
    "size_raw_huge": b"\0" + b"\xff" * 8 + seed(b"")[0:],
    # ABI major and names.
    "major_2": seed(b"\3", major=b"\1" + struct.pack("<I", 2)),
    "major_0": seed(b"\3", major=b"\1" + struct.pack("<I", 0)),
    "name_null": seed(b"\3", name=None),
    "name_empty": seed(b"\3", name=b""),
    "version_null": seed(b"\3", version=None),
    # Status codes of both numberings.
    "code_negative": seed(b"\3", code=-5),
    "code_1_0_numbering": seed(b"\2\0", minor=0, slots=ALL >> 1, code=2),
    "code_past_absl": seed(b"\3", code=17),
    "empty": b"",
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "plugin_table")
os.makedirs(out, exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(body)
