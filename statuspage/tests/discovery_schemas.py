"""The discovery feed's response shapes, transcribed from Open Finance Brasil's specification.

v1: "API Comum" 1.x (OpenBanking-Brasil/areadesenvolvedor, swagger/parts/schemas:
ResponseDiscoveryStatusList, DiscoveryStatus, DiscoveryOutage, Links, Meta).
v2: common 2.0.1 (OpenBanking-Brasil/draft-openapi, swagger-apis/common/2.0.1.yml).
Only the response bodies; `format: url` (not a JSON Schema format) is left out.
"""

TIME_Z = (
    r"^(\d{4})-(1[0-2]|0?[1-9])-(3[01]|[12][0-9]|0?[1-9])"
    r"T(?:[01]\d|2[0123]):(?:[012345]\d):(?:[012345]\d)Z$"
)
NOT_BLANK = r"^(?!\s)[\w\W\s]*[^\s]$"
CODES = ["OK", "PARTIAL_FAILURE", "UNAVAILABLE", "SCHEDULED_OUTAGE"]

LINKS_V1 = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in ("self", "first", "prev", "next", "last")},
}
META_V1 = {
    "type": "object",
    "required": ["totalRecords", "totalPages"],
    "properties": {
        "totalRecords": {"type": "integer"},
        "totalPages": {"type": "integer"},
        "requestDateTime": {"type": "string", "maxLength": 20, "format": "date-time"},
    },
    "additionalProperties": False,
}
STATUS_V1 = {
    "type": "object",
    "required": ["code", "explanation"],
    "properties": {
        "code": {"type": "string", "enum": CODES},
        "explanation": {"type": "string"},
        "detectionTime": {"type": "string"},
        "expectedResolutionTime": {"type": "string"},
        "updateTime": {"type": "string"},
        "unavailableEndpoints": {"type": "array", "items": {"type": "string"}},
    },
}
OUTAGE_V1 = {
    "type": "object",
    "required": ["outageTime", "duration", "isPartial", "explanation"],
    "properties": {
        "outageTime": {"type": "string"},
        "duration": {"type": "string"},
        "isPartial": {"type": "boolean"},
        "explanation": {"type": "string"},
        "unavailableEndpoints": {"type": "array", "items": {"type": "string"}},
    },
}

LINKS_V2 = {
    "type": "object",
    "properties": {
        k: {"type": "string", "maxLength": 2000} for k in ("self", "first", "prev", "next", "last")
    },
}
META_V2 = {
    "type": "object",
    "required": ["totalRecords", "totalPages"],
    "properties": {"totalRecords": {"type": "integer"}, "totalPages": {"type": "integer"}},
}
STATUS_V2 = {
    "type": "object",
    "required": ["code", "explanation"],
    "properties": {
        "code": {"type": "string", "enum": CODES},
        "explanation": {"type": "string", "pattern": NOT_BLANK, "maxLength": 2000},
        "detectionTime": {"type": "string", "pattern": TIME_Z, "maxLength": 20},
        "expectedResolutionTime": {"type": "string", "pattern": TIME_Z, "maxLength": 20},
        "updateTime": {"type": "string", "pattern": TIME_Z, "maxLength": 20},
        "unavailableEndpoints": {
            "type": "array",
            "maxItems": 1000,
            "items": {"type": "string", "maxLength": 2000},
        },
    },
}
OUTAGE_V2 = {
    "type": "object",
    "required": ["outageTime", "duration", "isPartial", "explanation"],
    "properties": {
        "outageTime": {"type": "string", "pattern": TIME_Z},
        "duration": {"type": "string", "pattern": NOT_BLANK},
        "isPartial": {"type": "boolean"},
        "explanation": {"type": "string", "pattern": NOT_BLANK},
    },
}


def status_list(status, links, meta, max_items=None):
    items = {"type": "array", "items": status}
    if max_items:
        items["maxItems"] = max_items
    return {
        "type": "object",
        "required": ["data", "links", "meta"],
        "properties": {
            "data": {"type": "object", "required": ["status"], "properties": {"status": items}},
            "links": links,
            "meta": meta,
        },
    }


def outage_list(outage, links, meta, max_items=None):
    items = {"type": "array", "items": outage}
    if max_items:
        items["maxItems"] = max_items
    return {
        "type": "object",
        "required": ["data", "links", "meta"],
        "properties": {"data": items, "links": links, "meta": meta},
    }


SCHEMAS = {
    (1, "status"): status_list(STATUS_V1, LINKS_V1, META_V1),
    (1, "outages"): outage_list(OUTAGE_V1, LINKS_V1, META_V1),
    (2, "status"): status_list(STATUS_V2, LINKS_V2, META_V2, 1000),
    (2, "outages"): outage_list(OUTAGE_V2, LINKS_V2, META_V2, 1000),
}
ERROR = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "maxItems": 13,
            "items": {
                "type": "object",
                "required": ["code", "title", "detail"],
                "properties": {
                    "code": {"type": "string", "maxLength": 255},
                    "title": {"type": "string", "maxLength": 255},
                    "detail": {"type": "string", "maxLength": 2048},
                },
            },
        },
        "meta": {
            "type": "object",
            "required": ["totalRecords", "totalPages", "requestDateTime"],
            "properties": {
                "totalRecords": {"type": "integer"},
                "totalPages": {"type": "integer"},
                "requestDateTime": {"type": "string", "maxLength": 20},
            },
        },
    },
}
