"""Changes a complete backup the way someone who can write the backups would, for the contract's
refusals. Run with GeoNode's venv: python tamper.py <scripts> <backup folder> <key file> <case> [<dump>]

<scripts> holds the chart's rendered backup scripts (backup_seal is imported from there, so the
changes are made with the chart's own format, not a model of it).

Cases, each what a restore must refuse:
- byte-and-sha256: one byte of the uploads changed, the manifest's size and sha256 made to match
  (without the key, the signature cannot be made again);
- byte: one byte of the uploads changed, nothing else;
- other-key: GeoNode's database replaced by <dump> (a dump with an extra SQL function), encrypted
  and the manifest signed with a key of the tamperer's;
- symlink-chain, dot-dot, absolute: the uploads replaced by an archive whose members would land
  outside the uploads folder (links that lead into each other and out, a `..` name, an absolute
  name), encrypted and signed with the release's own key: the restore's own checks on what it
  unpacks, which must hold even for a signed backup.
"""

import hashlib
import io
import json
import os
import secrets
import sys
import tarfile

scripts, folder, key_file, case = sys.argv[1:5]
sys.path.insert(0, scripts)
import backup_seal  # noqa: E402

name = os.path.basename(os.path.normpath(folder))
manifest_path = os.path.join(folder, "manifest.json")
with open(manifest_path, encoding="utf-8") as file:
    manifest = json.load(file)


def write_manifest(signed):
    with open(manifest_path, "w", encoding="utf-8") as file:
        json.dump(signed, file, indent=2, sort_keys=True)


def flip(part):
    path = os.path.join(folder, backup_seal.sealed_name(part))
    with open(path, "rb") as file:
        data = bytearray(file.read())
    data[len(data) // 2] ^= 0x55
    with open(path, "wb") as file:
        file.write(data)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def store(seal, part, clear):
    """`clear` encrypted as the part by `seal`, and the manifest signed by it."""
    with open(os.path.join(folder, backup_seal.sealed_name(part)), "wb") as stored:
        writer = seal.writer(stored, name, part)
        writer.write(clear)
        manifest["parts"][backup_seal.sealed_name(part)] = writer.close()
    write_manifest(seal.sign(manifest))


def archive(members):
    """A tar.gz of (name, kind, target or content) members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member, kind, value in members:
            info = tarfile.TarInfo(member)
            if kind == "file":
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
    return buffer.getvalue()


evil = b"alert('restored from a tampered backup')\n"
if case == "byte-and-sha256":
    manifest["parts"][backup_seal.sealed_name("uploads.tar.gz")].update(flip("uploads.tar.gz"))
    write_manifest(manifest)
elif case == "byte":
    flip("uploads.tar.gz")
elif case == "other-key":
    with open(sys.argv[5], "rb") as file:
        store(backup_seal.Seal(secrets.token_hex(32).encode()), "geonode.dump", file.read())
elif case == "symlink-chain":
    # Each link stays inside by itself; followed one after the other they reach static/.
    chain = [("a", "link", "."), ("a/b", "link", ".."), ("a/b/static/contract-evil.js", "file", evil)]
    store(backup_seal.Seal.from_file(key_file), "uploads.tar.gz", archive(chain))
elif case == "dot-dot":
    store(backup_seal.Seal.from_file(key_file), "uploads.tar.gz", archive([("../static/contract-evil.js", "file", evil)]))
elif case == "absolute":
    absolute = [("/tmp/geonode-contract-evil.js", "file", evil)]
    store(backup_seal.Seal.from_file(key_file), "uploads.tar.gz", archive(absolute))
else:
    sys.exit(f"tamper.py: unknown case {case!r}")
