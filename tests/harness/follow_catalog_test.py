"""Unit tests of the read replicas' reload decision (chart/files/geoserver/follow_catalog.py),
run by `cargo test` (tests/harness/main.rs, `follow_catalog_decides_as_its_tests_say`)."""

import os
import tempfile
import unittest

from follow_catalog import Follower, read_sequence

QUIET = 10


def follower(loaded=5, turn=0):
    return Follower(loaded, now=0, quiet=QUIET, turn=turn)


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

    def test_readers_take_turns(self):
        first, second = follower(turn=0), follower(turn=30)
        first.decide(6, 0)
        second.decide(6, 0)
        self.assertTrue(first.decide(6, QUIET))
        self.assertFalse(second.decide(6, QUIET))
        self.assertTrue(second.decide(6, QUIET + 30))

    def test_an_unreadable_global_xml_decides_nothing(self):
        f = follower()
        self.assertFalse(f.decide(6, 0))
        self.assertFalse(f.decide(None, 5))
        self.assertFalse(f.decide(None, QUIET + 5))
        self.assertTrue(f.decide(6, QUIET + 5))


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


if __name__ == "__main__":
    unittest.main()
