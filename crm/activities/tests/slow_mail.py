"""An e-mail backend for the reminder crash test: each message takes a while to "send" and is then written
to a file of its own in SLOW_MAIL_DIR, so a worker killed with SIGKILL dies in the middle of sending and the
files say what really left."""
import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["SLOW_MAIL_DIR"])
        for message in email_messages:
            time.sleep(float(os.environ.get("SLOW_MAIL_DELAY", "0.02")))
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
