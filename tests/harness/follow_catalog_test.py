"""Unit tests of the read replicas' reload decision (chart/files/geoserver/follow_catalog.py),
run by `cargo test` (tests/harness/main.rs, `follow_catalog_decides_as_its_tests_say`)."""

import os
import tempfile
import unittest

import time

from follow_catalog import Follower, RuleWatch, alive, beat, empty_folder, read_loaded, read_sequence

QUIET = 10


def follower(loaded=5):
    return Follower(loaded, now=0, quiet=QUIET)


class Decide(unittest.TestCase):
    def test_nothing_changed_no_reload(self):
        f = follower()
        self.assertFalse(any(f.decide(5, t) for t in range(0, 300, 5)))

    def test_one_reload_per_burst(self):
        f = follower()
        decisions = []
        # An upload: several catalog changes a few seconds apart, then quiet.
        for t, sequence in [(5, 6), (8, 7), (12, 9), (15, 9), (20, 9), (25, 9), (30, 9)]:
            if f.decide(sequence, t):
                decisions.append((t, sequence))
                f.reloaded(f.seen)
        self.assertEqual(decisions, [(25, 9)])
        self.assertEqual(f.loaded, 9)
        self.assertFalse(f.decide(9, 60))

    def test_a_sequence_that_goes_down_is_a_change(self):
        f = follower(loaded=40)
        self.assertFalse(f.decide(3, 1))
        self.assertTrue(f.decide(3, 1 + QUIET))

    def test_a_change_back_to_what_is_loaded_needs_no_reload(self):
        f = follower(loaded=5)
        self.assertFalse(f.decide(6, 1))
        self.assertFalse(f.decide(5, 2))
        self.assertFalse(f.decide(5, 100))

    def test_retries_while_geoserver_is_starting(self):
        f = follower()
        self.assertFalse(f.decide(6, 1))
        self.assertTrue(f.decide(6, 1 + QUIET))
        f.failed(now=11, backoff=10)
        self.assertFalse(f.decide(6, 15))
        self.assertTrue(f.decide(6, 21))
        f.failed(now=21, backoff=10)
        self.assertTrue(f.decide(6, 31))
        f.reloaded(6)
        self.assertFalse(f.decide(6, 40))

    def test_a_change_during_a_retry_waits_for_quiet_again(self):
        f = follower()
        f.decide(6, 1)
        self.assertTrue(f.decide(6, 1 + QUIET))
        f.failed(now=11, backoff=10)
        self.assertFalse(f.decide(7, 21))
        self.assertTrue(f.decide(7, 21 + QUIET))

    def test_a_busy_turn_waits_and_tries_again(self):
        # Another reader holds the reload lock: this one tries again after the backoff.
        f = follower()
        f.decide(6, 0)
        self.assertTrue(f.decide(6, QUIET))
        f.failed(now=QUIET, backoff=5)
        self.assertFalse(f.decide(6, QUIET + 1))
        self.assertTrue(f.decide(6, QUIET + 5))

    def test_a_restarted_reader_loaded_the_newest_catalog(self):
        f = follower()
        f.decide(6, 0)
        f.restarted(6)
        self.assertFalse(f.decide(6, QUIET))
        self.assertEqual(f.loaded, 6)

    def test_a_reader_restarted_on_an_older_catalog_still_reloads(self):
        f = follower()
        f.decide(7, 0)
        f.failed(now=1, backoff=100)
        f.restarted(6)
        self.assertTrue(f.decide(7, QUIET))

    def test_an_unreadable_global_xml_decides_nothing(self):
        f = follower()
        self.assertFalse(f.decide(6, 0))
        self.assertFalse(f.decide(None, 5))
        self.assertFalse(f.decide(None, QUIET + 5))
        self.assertTrue(f.decide(6, QUIET + 5))


class Rules(unittest.TestCase):
    def test_the_first_reading_is_the_baseline(self):
        w = RuleWatch()
        self.assertFalse(w.changed(120))
        self.assertFalse(w.changed(120))

    def test_a_move_invalidates_once(self):
        w = RuleWatch()
        w.changed(120)
        self.assertTrue(w.changed(131))
        w.invalidated()
        self.assertFalse(w.changed(131))

    def test_a_reset_counter_is_a_change(self):
        # PostgreSQL restarted: its statistics begin again.
        w = RuleWatch()
        w.changed(120)
        self.assertTrue(w.changed(0))

    def test_a_failed_invalidation_is_retried_even_without_the_database(self):
        w = RuleWatch()
        w.changed(120)
        self.assertTrue(w.changed(121))
        self.assertTrue(w.changed(None))
        w.invalidated()
        self.assertFalse(w.changed(None))

    def test_a_restarted_geoserver_has_nothing_cached(self):
        w = RuleWatch()
        w.changed(120)
        w.changed(121)
        w.restarted()
        self.assertFalse(w.changed(121))


class ReadSequence(unittest.TestCase):
    def test_reads_upstreams_global_xml(self):
        here = os.path.dirname(os.path.abspath(__file__))
        upstream = os.path.join(here, "..", "upstream", "geoserver-geonode-ext", "data", "global.xml")
        self.assertEqual(read_sequence(upstream), 60)

    def test_missing_or_half_written(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "global.xml")
            self.assertIsNone(read_sequence(path))
            with open(path, "w") as f:
                f.write("<global><settings><updateSeq")
            self.assertIsNone(read_sequence(path))

    def test_the_start_scripts_note(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "loaded-sequence")
            self.assertIsNone(read_loaded(path))
            with open(path, "w") as f:
                f.write("")
            self.assertIsNone(read_loaded(path))
            with open(path, "w") as f:
                f.write("60\n")
            self.assertEqual(read_loaded(path)[0], 60)


class Heartbeat(unittest.TestCase):
    def test_a_recent_round_is_alive_an_old_one_is_not(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "heartbeat")
            self.assertFalse(alive(path, 60))
            beat(path)
            self.assertTrue(alive(path, 60))
            self.assertFalse(alive(path, 60, now=time.time() + 61))


class TileCache(unittest.TestCase):
    def test_emptied_but_kept(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "geonode_roads", "EPSG_900913_03"))
            with open(os.path.join(d, "geonode_roads", "EPSG_900913_03", "0_0.png"), "w") as f:
                f.write("tile")
            with open(os.path.join(d, "stray"), "w") as f:
                f.write("x")
            self.assertEqual(empty_folder(d), 2)
            self.assertEqual(os.listdir(d), [])
            self.assertEqual(empty_folder(os.path.join(d, "missing")), 0)


if __name__ == "__main__":
    unittest.main()
