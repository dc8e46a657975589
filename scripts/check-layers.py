#!/usr/bin/env python3
# The layering rule of DESIGN.md as a test: every "folder/file.h" include
# must point down (tools -> frontend -> transports -> devices -> core,
# state, proto), never up or across transports. TAP, one point per folder.
import os
import re
import sys

# What each folder may include besides itself.
ALLOWED = {
    "proto": set(),
    "core": {"proto"},
    "state": {"proto", "core"},
    "backends": {"proto", "core"},
    "devices": {"proto", "core", "state", "backends"},
    "vhost-user-compat": {"proto", "core", "state"},
    "vduse": {"proto", "core", "state"},
    "frontend": {"proto", "core", "state", "vhost-user-compat"},
    "mgmt": {"proto", "core", "state", "devices"},
}
FOLDERS = sorted(ALLOWED)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# Transports carry any device: they never name the block device's symbols.
TRANSPORTS = {"vhost-user-compat", "vduse"}
DEVICE_SYMBOL = re.compile(r'\b(blk_[a-z0-9_]+|BLK_[A-Z0-9_]+|VIRTIO_ID_BLOCK|virtio_blk_[a-z_]+)\b')


def layer_of(path):
    """The layer a path belongs to: its first folder (devices/blk -> devices)."""
    top = path.split("/", 1)[0]
    return top if top in ALLOWED else None


def check_folder(root, folder):
    bad = []
    for dirpath, _, names in os.walk(os.path.join(root, folder)):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if folder in TRANSPORTS:
                for m in DEVICE_SYMBOL.finditer(text):
                    line_no = text.count("\n", 0, m.start()) + 1
                    bad.append(f"{rel}:{line_no}: a transport names the device's {m.group(1)}")
            for line_no, target in ((text.count("\n", 0, m.start()) + 1, m.group(1))
                                    for m in INCLUDE.finditer(text)):
                if "/" not in target:
                    bad.append(f"{rel}:{line_no}: \"{target}\" is not path-qualified")
                    continue
                to = layer_of(target)
                if to is None:
                    bad.append(f"{rel}:{line_no}: \"{target}\" is outside the library folders")
                elif to != folder and to not in ALLOWED[folder]:
                    bad.append(f"{rel}:{line_no}: {folder} includes {target}, "
                               f"which is above it or beside it")
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    folders = [f for f in FOLDERS if os.path.isdir(os.path.join(root, f))]
    print("TAP version 13")
    print(f"1..{len(folders)}")
    failed = 0
    for i, folder in enumerate(folders, 1):
        bad = check_folder(root, folder)
        for b in bad:
            print(f"# {b}")
        print(f"{'not ok' if bad else 'ok'} {i} {folder} includes only what is below it")
        failed += bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
