"""Exits 0 when the Celery broker answers: the liveness and readiness check of celery beat,
which has no port and answers no ping of its own."""

import importlib
import os
import sys

import django

django.setup()
# The Celery application, module:attribute (geonode.project.celeryApp).
_module, _, _attribute = os.environ["GEONODE_K8S_CELERY_APP"].partition(":")
app = getattr(importlib.import_module(_module), _attribute or "app")

try:
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=5)
except Exception as error:  # any failure to connect means: not healthy
    sys.exit("broker unreachable: {}".format(error))
