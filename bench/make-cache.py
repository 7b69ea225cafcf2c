#!/usr/bin/env python3
"""Fills a goedge cache folder with N entries (three files per module@version,
the way goedge stores info/mod/zip), for measuring the index rebuild at start."""
import os
import sys


def shard(group: str) -> str:
    # The store's FNV-1a shard (Sources/LRUCache/GroupDirectoryName.swift).
    h = 2166136261
    for b in group.encode():
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return "%02x" % ((h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24)) & 0xFF)


def encode(group: str) -> str:
    plain = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!@+,=")
    out = []
    for i, b in enumerate(group.encode()):
        if b in plain and not (i == 0 and b == ord(".")):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def main() -> None:
    folder, entries = sys.argv[1], int(sys.argv[2])
    data = os.path.join(folder, "data")
    os.makedirs(data, exist_ok=True)
    # goedge's marker: it uses a folder holding anything only when the folder carries it.
    with open(os.path.join(folder, "CACHEDIR.TAG"), "w") as f:
        f.write("Signature: 8a477f597d28d172789f06886806bc55\n# This folder is goedge's Go module cache.\n")
    os.makedirs(os.path.join(folder, "tmp"), exist_ok=True)
    info = b'{"Version":"v1.0.0","Time":"2023-01-02T15:04:05Z"}'
    for n in range((entries + 2) // 3):
        group = "example.com/org%d/module%d/@v/v1.%d.0" % (n % 97, n, n % 7)
        directory = os.path.join(data, shard(group), encode(group))
        os.makedirs(directory, exist_ok=True)
        for name, body in (("info", info), ("mod", b"module example.com/x\n"), ("zip", b"PK" + b"\0" * 3000)):
            with open(os.path.join(directory, name), "wb") as f:
                f.write(body)


if __name__ == "__main__":
    main()
