"""The HTTP API of incidents and of every monitoring sender (DRF views, serializers, fast path)."""
