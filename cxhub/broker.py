"""The zero-setup broker: kombu's filesystem transport, safe for several processes.

kombu's filesystem channel creates a message file and then writes into it. A worker
process that lists the folder in between takes the still-empty file, fails to
decode it, and Celery stops the whole worker ("Unrecoverable error: JSONDecodeError").
Here a message is written under a name no consumer picks (``.part``) and renamed
into place, which POSIX makes atomic: a consumer sees no message or the whole one.
A file that still cannot be decoded (left by an older version) is dropped with a
warning instead of stopping the worker; the work it rang for is a row in the
database, which the beat sweep finds.

Settings select it for ``filesystem://`` URLs (``CELERY_BROKER_TRANSPORT``).
"""

import contextlib
import logging
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The name kombu gives a message: consumers sort by it and match the queue
        # on what follows the first dot.
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        while True:
            try:
                return super()._get(queue)
            except ValueError:
                # kombu has already taken the file off the queue.
                logger.warning("dropped an unreadable message of queue %r", queue)


class Transport(filesystem.Transport):
    Channel = Channel
    # One state for every connection of the process, as kombu's own transport has.
    global_state = filesystem.Transport.global_state
