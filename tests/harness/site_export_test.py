"""Unit tests of a site export's checks (chart/files/backup/site_export.py), run by `cargo test`
(tests/harness/main.rs, `site_export_checks_as_its_tests_say`). The contract imports real exports;
these name each refusal's message."""

import hashlib
import json
import os
import tempfile
import unittest

from site_export import (PARTS, SUMS, ExportError, check_listing, check_part, read_site, read_sums,
                         repoint_stores)


def sums_text(names):
    return "".join(f"{hashlib.sha256(n.encode()).hexdigest()}  {n}\n" for n in names)


class Sums(unittest.TestCase):
    def test_sha256sum_output_is_read(self):
        sums = read_sums(sums_text(PARTS))
        self.assertEqual(sorted(sums), sorted(PARTS))
        self.assertEqual(sums["site.json"], hashlib.sha256(b"site.json").hexdigest())

    def test_binary_mode_and_dot_slash_names_are_read(self):
        text = "".join(f"{'a' * 64} *./{n}\n" for n in PARTS)
        self.assertEqual(sorted(read_sums(text)), sorted(PARTS))

    def test_a_file_of_another_name_is_refused(self):
        with self.assertRaisesRegex(ExportError, "names 'notes.txt', which is not part of a site export"):
            read_sums(sums_text(PARTS + ["notes.txt"]))

    def test_a_part_without_a_line_is_refused(self):
        with self.assertRaisesRegex(ExportError, "has no line for assets.tar.gz"):
            read_sums(sums_text([p for p in PARTS if p != "assets.tar.gz"]))

    def test_a_line_not_as_sha256sum_writes_it_is_refused(self):
        with self.assertRaisesRegex(ExportError, "line 1 is not"):
            read_sums("abc site.json\n")


class Listing(unittest.TestCase):
    def test_every_part_and_the_sums_are_needed(self):
        check_listing(PARTS + [SUMS])
        with self.assertRaisesRegex(ExportError, "geodata.dump is missing"):
            check_listing([p for p in PARTS if p != "geodata.dump"] + [SUMS])
        with self.assertRaisesRegex(ExportError, "SHA256SUMS is missing"):
            check_listing(PARTS)


class Parts(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as file:
            file.write(data)
        return path, hashlib.sha256(data).hexdigest()

    def test_a_changed_byte_is_refused_by_name(self):
        path, digest = self.write("uploads.tar.gz", b"some bytes")
        check_part("uploads.tar.gz", path, digest)
        with self.assertRaisesRegex(ExportError, "uploads.tar.gz differs from its line in SHA256SUMS"):
            check_part("uploads.tar.gz", path, "0" * 64)

    def test_a_dump_must_be_in_custom_format(self):
        path, digest = self.write("geonode.dump", b"PGDMP\x01\x0e\x00")
        check_part("geonode.dump", path, digest)
        path, digest = self.write("geodata.dump", b"-- PostgreSQL database dump\n")
        with self.assertRaisesRegex(ExportError, "geodata.dump is not a pg_dump archive in custom format"):
            check_part("geodata.dump", path, digest)

    def site(self, **changes):
        site = {"siteurl": "http://old.example.org/", "media_root": "/mnt/volumes/statics/uploaded/",
                "assets_root": "/mnt/volumes/statics/assets/", "datastore": "project_data", "geonode": "5.1.0"}
        site.update(changes)
        path, _ = self.write("site.json", json.dumps(site).encode())
        return path

    def test_site_json_is_checked(self):
        self.assertEqual(read_site(self.site(), "5.1.1")["datastore"], "project_data")
        self.assertEqual(read_site(self.site(geonode="4.4.5"), "5.1.1")["geonode"], "4.4.5")
        for changes, message in [
            ({"siteurl": "old.example.org"}, "is not the old site's http"),
            ({"assets_root": ""}, "assets_root '' is not an absolute path"),
            ({"datastore": ""}, "is not the datastore database's name"),
            ({"geonode": "4.2.4"}, "upgrade it where it runs to GeoNode 4.4 first"),
            ({"geonode": "5.2.0"}, "newer than this chart's 5.1.1"),
            ({"geonode": "unknown"}, "is not a GeoNode version"),
        ]:
            with self.subTest(changes=changes), self.assertRaisesRegex(ExportError, message):
                read_site(self.site(**changes), "5.1.1")

    def test_site_json_that_is_not_json_is_refused(self):
        path, _ = self.write("site.json", b"95 objects imported automatically\n{}")
        with self.assertRaisesRegex(ExportError, "site.json is not JSON"):
            read_site(path, "5.1.1")


STORE = """<dataStore>
  <name>{name}</name>
  <connectionParameters>
    <entry key="host">db</entry>
    <entry key="database">{database}</entry>
    <entry key="dbtype">{dbtype}</entry>
  </connectionParameters>
</dataStore>
"""


class Stores(unittest.TestCase):
    def test_only_geonode_postgis_stores_on_the_old_database_move(self):
        with tempfile.TemporaryDirectory() as data:
            stores = {("geonode", "project_data"): ("project_data", "postgis"),
                      ("geonode", "other"): ("elsewhere", "postgis"),
                      ("geonode", "shapes"): ("project_data", "shapefile"),
                      ("topp", "project_data"): ("project_data", "postgis")}
            for (workspace, name), (database, dbtype) in stores.items():
                os.makedirs(os.path.join(data, "workspaces", workspace, name))
                with open(os.path.join(data, "workspaces", workspace, name, "datastore.xml"), "w") as file:
                    file.write(STORE.format(name=name, database=database, dbtype=dbtype))
            self.assertEqual(repoint_stores(data, "project_data", "geonode_data"), ["project_data"])

            def database(workspace, name):
                with open(os.path.join(data, "workspaces", workspace, name, "datastore.xml")) as file:
                    return file.read().split('<entry key="database">')[1].split("<")[0]

            self.assertEqual(database("geonode", "project_data"), "geonode_data")
            self.assertEqual(database("geonode", "other"), "elsewhere")
            self.assertEqual(database("geonode", "shapes"), "project_data")
            self.assertEqual(database("topp", "project_data"), "project_data")
            self.assertEqual(repoint_stores(data, "project_data", "geonode_data"), [])


if __name__ == "__main__":
    unittest.main()
