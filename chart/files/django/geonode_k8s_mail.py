"""E-mail while geonode.email is off: nothing is sent, and nothing of a message is printed.

Without e-mail GeoNode falls back to Django's console backend, which prints every message whole
into the log, password-reset links among them: reading a pod's log would be enough to take any
account, the administrator's too. This backend drops each message and logs only that it did.
"""

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class DroppingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            logger.warning(
                "e-mail is off (geonode.email.enabled: false): a message to %d recipient(s) was not sent",
                len(message.recipients()),
            )
        return len(email_messages)
