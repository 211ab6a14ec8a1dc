# Admin and template datetimes carry their UTC offset, as the support pages do
# (cxhub.timefmt), so one event never reads as two different times.
DATETIME_FORMAT = r"d/m/Y H:i:s \U\T\CO"
SHORT_DATETIME_FORMAT = r"d/m/Y H:i \U\T\CO"
