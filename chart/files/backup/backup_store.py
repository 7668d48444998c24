"""Where backups are kept: a folder on the backup volume, or an S3 bucket (backup.target).

A backup is a folder (or key prefix) named by the UTC time it began (NAME), holding the parts and
a manifest. The manifest is written last and deleted first: a backup without one is incomplete and
never restored. Nothing else is a backup: other folders beside them (under a shared prefix of a
bucket, say) are never listed, restored or deleted; a site exported from another GeoNode
(site_export.py), named in backup.restore.from, is only read. Used by backup.py and restore.py.
"""

import json
import os
import re
import shutil

MANIFEST = "manifest.json"
NAME = re.compile(r"[0-9]{8}T[0-9]{6}Z")


def is_backup_name(name):
    return NAME.fullmatch(name) is not None


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
            if is_backup_name(entry) and os.path.isfile(os.path.join(self.root, entry, MANIFEST))
        )

    def prune(self, keep):
        """Deletes complete backups beyond the newest `keep` (0: none), and what failed runs left."""
        names = self.complete()
        doomed = names[: max(len(names) - keep, 0)] if keep else []
        for name in doomed:
            # Manifest first: a deletion cut short leaves an incomplete backup, never a broken one.
            os.remove(os.path.join(self.root, name, MANIFEST))
            shutil.rmtree(os.path.join(self.root, name))
        for entry in os.listdir(self.root):
            if entry.startswith(".partial-") and is_backup_name(entry[len(".partial-") :]):
                shutil.rmtree(os.path.join(self.root, entry))
        return doomed

    def fetch(self, name, parts, scratch):
        """The backup's folder (read in place)."""
        return os.path.join(self.root, name)

    def files(self, name):
        """The names of the regular files in folder `name` (a site export's), or None if there
        is no such folder."""
        folder = os.path.join(self.root, name)
        if not os.path.isdir(folder):
            return None
        return sorted(f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f)))

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
            folder = key[len(self.prefix) :].split("/", 1)[0]
            if is_backup_name(folder) and key != self.prefix + folder:
                found.setdefault(folder, []).append(key)
        return found

    def complete(self):
        return sorted(name for name, keys in self._backups().items() if f"{self.prefix}{name}/{MANIFEST}" in keys)

    def prune(self, keep):
        """As on the volume. With keep 0 nothing is listed or deleted: credentials that may only
        write (and a bucket's lifecycle rules or object lock deciding what goes) are enough."""
        if not keep:
            return []
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

    def fetch(self, name, parts, scratch):
        """Downloads the backup's parts (the files the verified manifest names) into the scratch
        folder and returns it."""
        target = os.path.join(scratch, name)
        os.makedirs(target, exist_ok=True)
        for part in parts:
            self.client.download_file(self.bucket, f"{self.prefix}{name}/{part}", os.path.join(target, part))
        return target

    def files(self, name):
        """The names of the objects directly under key prefix `name/` (a site export's), or None
        if there are none."""
        folder = f"{self.prefix}{name}/"
        paginator = self.client.get_paginator("list_objects_v2")
        found = [
            item["Key"][len(folder) :]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=folder)
            for item in page.get("Contents", [])
        ]
        return sorted(f for f in found if f and "/" not in f) or None

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
