"""The status page's models: Open Finance endpoints, and followers and their notices."""

from statuspage.models.openfinance import OpenFinanceEndpoint
from statuspage.models.subscribers import (
    Language,
    Notice,
    NoticeRecord,
    Stage,
    StatusUpdate,
    Subscriber,
    UpdateTemplate,
)

__all__ = [
    "Language",
    "Notice",
    "NoticeRecord",
    "OpenFinanceEndpoint",
    "Stage",
    "StatusUpdate",
    "Subscriber",
    "UpdateTemplate",
]
