"""The zero-setup broker: kombu's filesystem transport, safe for several processes.

kombu's filesystem channel creates a message file and then writes into it. A worker
process that lists the folder in between takes the still-empty file, fails to
decode it, and Celery stops the whole worker ("Unrecoverable error: JSONDecodeError").
Here a message is written under a name no consumer picks (``.part``) and renamed
into place, which POSIX makes atomic: a consumer sees no message or the whole one.
A file that still cannot be decoded (left by an older version) is dropped with a
warning instead of stopping the worker; the work it rang for is a row in the
database, which the beat sweep finds.

The exchange tables (which queues a fanout exchange reaches: Celery's remote
control) have the same gap: kombu creates a new table file and locks it only then,
so two workers starting at once on a fresh folder (the Procfile's `worker` and
`pages`) can read it empty or write over each other. Here a table is created,
locked, read and rewritten under one lock, and an empty one reads as no queues.

Settings select it for ``filesystem://`` URLs (``CELERY_BROKER_TRANSPORT``).
"""

import contextlib
import logging
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


def _table(data: bytes) -> list:
    return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(data))] if data else []


class Channel(filesystem.Channel):
    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            with open(file, "rb") as f:
                filesystem.lock(f, filesystem.LOCK_SH)
                try:
                    data = f.read()
                finally:
                    filesystem.unlock(f)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        return _table(data)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            with os.fdopen(os.open(file, os.O_RDWR | os.O_CREAT, 0o644), "r+b", buffering=0) as f:
                filesystem.lock(f, filesystem.LOCK_EX)
                try:
                    queues = _table(f.read())
                    if entry not in queues:
                        f.seek(0)
                        f.truncate()
                        f.write(str_to_bytes(dumps([entry, *queues])))
                finally:
                    filesystem.unlock(f)
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        try:
            super()._delete(queue, exchange, routing_key, pattern, *args, **kwargs)
        except ValueError:
            pass  # a table another process has just created, still empty: nothing to remove

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
    # kombu's transport but for the channel: its global_state (one per process) included.
    Channel = Channel
