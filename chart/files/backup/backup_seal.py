"""A backup's seal: its parts encrypted and its manifest signed with the release's backup key.

The key (backup.auth: generated once into a Secret of its own, or the operator's) never goes
into a backup: whoever can read or write the backups (the bucket, the backup volume) but not the
key can neither read a part nor make a restore accept anything. From the key, HMAC-SHA256 derives
a key for each part and one for the manifest.

A part is AES-256-CTR with its own key (HMAC-SHA256 of the key and "<label> <backup>/<part>") and
a random IV; the manifest holds each stored part's size, sha256 and IV, and an HMAC-SHA256 over
all of it (encrypt-then-MAC): a restore checks the manifest's HMAC, then each part's sha256 as it
decrypts it, before it uses a byte. Standard tools can decrypt a part by hand (openssl, see
docs/backup-and-restore.md); `python3 backup_seal.py open <backup folder> <target>` checks and
decrypts a whole backup.
"""

import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # GeoNode's image has it

KEY_FILE = os.environ.get("BACKUP_KEY_FILE", "")  # the chart sets it
CIPHER = "AES-256-CTR, HMAC-SHA256 (geonode-k8s backup v1)"
PART_LABEL = "geonode-k8s backup part v1"
MANIFEST_LABEL = "geonode-k8s backup manifest v1"
KEY_ID_LABEL = "geonode-k8s backup key id v1"
SIGNATURE = "hmac-sha256"
BLOCK = 1 << 20


class SealError(Exception):
    """Something this release's key did not seal, or that changed since."""


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256)


class Seal:
    def __init__(self, key):
        if len(key) < 32:
            raise SealError(f"the backup key has {len(key)} characters; it needs at least 32 (backup.auth.key)")
        self._key = key
        # Names the key in manifests and errors without revealing anything of it.
        self.key_id = _hmac(key, KEY_ID_LABEL).hexdigest()[:16]

    @classmethod
    def from_file(cls, path=KEY_FILE):
        if not path:
            raise SealError("no backup key: set BACKUP_KEY_FILE or pass --key-file=<file>")
        try:
            with open(path, "rb") as file:
                return cls(file.read().strip())
        except FileNotFoundError:
            raise SealError(f"the backup key {path} is missing (backup.auth)") from None

    def sign(self, manifest):
        """The manifest with the key's id and its HMAC over everything else, in canonical JSON."""
        unsigned = {k: v for k, v in manifest.items() if k != SIGNATURE}
        unsigned["key"] = self.key_id
        return dict(unsigned, **{SIGNATURE: self._mac(unsigned)})

    def verify(self, manifest, name):
        """The manifest of backup `name`, if this key signed it as that backup's; else SealError."""
        if not isinstance(manifest, dict) or not isinstance(manifest.get(SIGNATURE), str):
            raise SealError("the manifest is not signed: it was not written by a backup of this chart version")
        unsigned = {k: v for k, v in manifest.items() if k != SIGNATURE}
        if not hmac.compare_digest(manifest[SIGNATURE], self._mac(unsigned)):
            if manifest.get("key") != self.key_id:
                raise SealError(
                    f"the manifest names backup key {manifest.get('key')!r}, and this release's key is "
                    f"{self.key_id!r}: give this release the key the backup was made with (backup.auth)"
                )
            raise SealError("the manifest's signature does not verify: it was changed after the backup wrote it")
        if manifest.get("name") != name:
            raise SealError(f"the manifest is backup {manifest.get('name')!r}'s, found under the name {name!r}")
        return manifest

    def _mac(self, unsigned):
        canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return _hmac(_hmac(self._key, MANIFEST_LABEL).digest(), canonical).hexdigest()

    def _cipher(self, name, part, iv):
        key = _hmac(self._key, f"{PART_LABEL} {name}/{part}").digest()
        return Cipher(algorithms.AES(key), modes.CTR(iv))

    def writer(self, file, name, part):
        """A write-only file object that encrypts part `part` of backup `name` into `file`;
        close() returns what the manifest keeps of it (bytes, sha256, iv)."""
        return _Writer(file, self._cipher, name, part)

    def decrypt(self, source, target, name, part, facts):
        """Decrypts the stored part at path `source` into path `target`, checking its size and
        sha256 against `facts` (from the verified manifest) on the bytes it decrypts; on a
        mismatch `target` is removed and SealError raised."""
        digest, size = hashlib.sha256(), 0
        decryptor = self._cipher(name, part, bytes.fromhex(facts["iv"])).decryptor()
        with open(source, "rb") as stored, open(target, "wb") as clear:
            for block in iter(lambda: stored.read(BLOCK), b""):
                digest.update(block)
                size += len(block)
                clear.write(decryptor.update(block))
            clear.write(decryptor.finalize())
        if size != facts["bytes"] or not hmac.compare_digest(digest.hexdigest(), facts["sha256"]):
            os.remove(target)
            raise SealError(f"part {part} differs from its manifest (size or sha256): the backup was changed or damaged")


class _Writer:
    """What tarfile's stream mode and shutil.copyfileobj need: write(), and close()."""

    def __init__(self, file, cipher, name, part):
        self._iv = os.urandom(16)
        self._encryptor = cipher(name, part, self._iv).encryptor()
        self._file = file
        self._digest = hashlib.sha256()
        self._bytes = 0

    def write(self, data):
        self._put(self._encryptor.update(data))
        return len(data)

    def _put(self, data):
        self._file.write(data)
        self._digest.update(data)
        self._bytes += len(data)

    def close(self):
        self._put(self._encryptor.finalize())
        return {"bytes": self._bytes, "sha256": self._digest.hexdigest(), "iv": self._iv.hex()}


def sealed_name(part):
    return part + ".enc"


def open_backup(seal, folder, name, manifest, parts, target, consume=False):
    """Decrypts `parts` of backup `name` (stored in `folder`, its manifest verified) into `target`,
    each checked as it is decrypted; with `consume`, a stored part is removed once decrypted (a
    download's copy, so that scratch space holds one copy of the backup)."""
    os.makedirs(target, exist_ok=True)
    stored = manifest.get("parts") if isinstance(manifest.get("parts"), dict) else {}
    expected = {sealed_name(part) for part in parts}
    if set(stored) != expected:
        raise SealError(f"the manifest lists parts {sorted(stored)}, not {sorted(expected)}")
    for part in parts:
        source = os.path.join(folder, sealed_name(part))
        if not os.path.isfile(source):
            raise SealError(f"part {sealed_name(part)} is missing")
        seal.decrypt(source, os.path.join(target, part), name, part, stored[sealed_name(part)])
        if consume:
            os.remove(source)


def main(argv):
    """usage: python3 backup_seal.py open <backup folder> <target folder> [--key-file=<file>]"""
    args = [a for a in argv if not a.startswith("--key-file=")]
    key_file = next((a.split("=", 1)[1] for a in argv if a.startswith("--key-file=")), KEY_FILE)
    if len(args) != 3 or args[0] != "open":
        sys.exit(main.__doc__)
    folder, target = args[1], args[2]
    name = os.path.basename(os.path.normpath(folder))
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as file:
        manifest = json.load(file)
    seal = Seal.from_file(key_file)
    try:
        seal.verify(manifest, name)
        parts = sorted(p[: -len(".enc")] for p in manifest["parts"])
        open_backup(seal, folder, name, manifest, parts, target)
    except SealError as error:
        sys.exit(f"backup {name}: {error}")
    print(f"backup {name}: signature and every part checked; {', '.join(parts)} decrypted into {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
