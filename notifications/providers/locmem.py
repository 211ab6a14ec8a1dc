from notifications.providers.base import BasePushProvider, PushFailure

# Pushes the locmem provider "sent", and per-token failures it should report, for tests.
outbox: list[dict] = []
failures: dict[str, PushFailure] = {}


class LocmemPushProvider(BasePushProvider):
    name = "locmem"
    label = "Local memory (tests)"

    def send(self, *, messages, title, reference):
        found = {
            m.device.pk: failures[m.device.token] for m in messages if m.device.token in failures
        }
        outbox.append(
            {
                "reference": reference,
                "title": title,
                "tokens": [m.device.token for m in messages],
                "bodies": {m.device.token: m.body for m in messages},
                "body": " | ".join(sorted({m.body for m in messages})),
            }
        )
        return found
