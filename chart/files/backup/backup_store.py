"""Where backups are kept: a folder on the backup volume, or an S3 bucket (backup.target).

A backup is a folder (or key prefix) named by the UTC time it began, holding the parts and a
manifest. The manifest is written last and deleted first: a backup without one is incomplete and
never restored. Used by backup.py and restore.py.
"""

import hashlib
import json
import os
import shutil

MANIFEST = "manifest.json"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VolumeStore:
    """Backups in folders on the backup volume (backup.target.type: pvc)."""

    def __init__(self, root):
        self.root = root

    def describe(self, name):
        return f"kept in {os.path.join(self.root, name)}"

    def keep(self, name, work):
        os.replace(work, os.path.join(self.root, name))
        _fsync_dir(self.root)

    def complete(self):
        return sorted(
            entry
            for entry in os.listdir(self.root)
            if not entry.startswith(".") and os.path.isfile(os.path.join(self.root, entry, MANIFEST))
        )

    def prune(self, keep):
        """Deletes complete backups beyond the newest `keep`, and what failed runs left."""
        names = self.complete()
        doomed = names[: max(len(names) - keep, 0)]
        for name in doomed:
            # Manifest first: a deletion cut short leaves an incomplete backup, never a broken one.
            os.remove(os.path.join(self.root, name, MANIFEST))
            shutil.rmtree(os.path.join(self.root, name))
        for entry in os.listdir(self.root):
            if entry.startswith(".partial-"):
                shutil.rmtree(os.path.join(self.root, entry))
        return doomed

    def fetch(self, name, scratch):
        """The backup's folder (read in place)."""
        return os.path.join(self.root, name)

    def manifest(self, name):
        path = os.path.join(self.root, name, MANIFEST)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as file:
            return json.load(file)


class S3Store:
    """Backups under a key prefix of an S3 bucket (backup.target.type: s3)."""

    def __init__(self, endpoint, bucket, prefix, region):
        import boto3  # GeoNode's image has it (django-storages); only S3 targets need it
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region,
            # Path-style addressing works with every S3-compatible server.
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
        )

    def describe(self, name):
        return f"kept in s3://{self.bucket}/{self.prefix}{name}/"

    def keep(self, name, work):
        parts = sorted(p for p in os.listdir(work) if p != MANIFEST)
        for part in parts + [MANIFEST]:
            self.client.upload_file(os.path.join(work, part), self.bucket, f"{self.prefix}{name}/{part}")

    def _keys(self):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def _backups(self):
        """{name: [keys]} of every backup folder under the prefix, complete or not."""
        found = {}
        for key in self._keys():
            rest = key[len(self.prefix) :]
            if "/" in rest:
                found.setdefault(rest.split("/", 1)[0], []).append(key)
        return found

    def complete(self):
        return sorted(name for name, keys in self._backups().items() if f"{self.prefix}{name}/{MANIFEST}" in keys)

    def prune(self, keep):
        backups = self._backups()
        complete = sorted(n for n, keys in backups.items() if f"{self.prefix}{n}/{MANIFEST}" in keys)
        doomed = complete[: max(len(complete) - keep, 0)]
        # Incomplete backups older than the newest complete one are what failed runs left.
        stale = [n for n in backups if n not in complete and complete and n < complete[-1]]
        for name in doomed + stale:
            keys = sorted(backups[name], key=lambda k: not k.endswith("/" + MANIFEST))
            for key in keys:  # the manifest first
                self.client.delete_object(Bucket=self.bucket, Key=key)
        return doomed

    def fetch(self, name, scratch):
        """Downloads the backup's parts into the scratch folder and returns it."""
        target = os.path.join(scratch, name)
        os.makedirs(target, exist_ok=True)
        for key in self._backups().get(name, []):
            self.client.download_file(self.bucket, key, os.path.join(target, key.rsplit("/", 1)[1]))
        return target

    def manifest(self, name):
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}{name}/{MANIFEST}")["Body"]
        except self.client.exceptions.NoSuchKey:
            return None
        return json.loads(body.read())


def open_store():
    """The store backup.target names, from the environment the chart sets."""
    if os.environ.get("BACKUP_TARGET") == "s3":
        return S3Store(
            os.environ.get("BACKUP_S3_ENDPOINT", ""),
            os.environ["BACKUP_S3_BUCKET"],
            os.environ.get("BACKUP_S3_PREFIX", ""),
            os.environ.get("BACKUP_S3_REGION", "us-east-1"),
        )
    return VolumeStore(os.environ["BACKUP_VOLUME"])
