"""Exits 0 when the Celery broker answers: the liveness and readiness check of celery beat,
which has no port and answers no ping of its own."""

import sys

import django

django.setup()
from geonode.celery_app import app  # noqa: E402

try:
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=5)
except Exception as error:  # any failure to connect means: not healthy
    sys.exit("broker unreachable: {}".format(error))
