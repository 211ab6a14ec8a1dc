"""The logs: one time format everywhere, and beat's bookkeeping out of the worker's way."""

import io
import logging
import re
import sys

import pytest

from cxhub.gunicorn import RedactingLogger
from cxhub.logs import PlainFormatter, RoutineFilter, log_time

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
SWEEP = "incidents.tasks.sweep"


def record(name, msg, args, level=logging.INFO):
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_plain_lines_and_gunicorn_lines_share_one_time_format():
    line = PlainFormatter().format(record("cxhub", "PUSH to %s device(s)", (3,)))
    assert re.fullmatch(rf"{ISO} INFO cxhub PUSH to 3 device\(s\)", line)
    # The access log's %(t)s atom.
    assert re.fullmatch(rf"\[{ISO}\]", RedactingLogger.now(None))
    assert re.fullmatch(ISO, log_time(0))


@pytest.fixture
def routine():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RoutineFilter())
    logger = logging.getLogger("celery.app.trace")
    beat = logging.getLogger("celery.beat")
    # A logging.config.dictConfig run by an earlier test (settings reloaded) may have
    # disabled these loggers, and a disabled logger handles nothing.
    disabled = {one: one.disabled for one in (logger, beat)}
    for one in (logger, beat):
        one.addHandler(handler)
        one.propagate = False
        one.disabled = False
    yield stream, handler.filters[0]
    for one in (logger, beat):
        one.removeHandler(handler)
        one.propagate = True
        one.disabled = disabled[one]


def emit(name, msg, args):
    logging.getLogger(name).handle(record(name, msg, args))


def test_beat_routine_is_summed_up_once_a_minute_and_what_did_something_shows(routine):
    stream, routine_filter = routine
    nothing = {"name": SWEEP, "id": "1", "return_value": "{'reports': 0, 'incidents': 0}"}
    for _ in range(12):
        emit("celery.beat", "Scheduler: Sending due task %s (%s)", ("sweep", SWEEP))
        emit("celery.app.trace", "Task %(name)s[%(id)s] succeeded: %(return_value)s", nothing)
    assert stream.getvalue() == ""
    did = {**nothing, "return_value": "{'reports': 0, 'incidents': 1}"}
    emit("celery.app.trace", "Task %(name)s[%(id)s] succeeded: %(return_value)s", did)
    other = {"name": "notifications.tasks.delivery_send", "id": "2", "return_value": "0"}
    emit("celery.app.trace", "Task %(name)s[%(id)s] succeeded: %(return_value)s", other)
    retry = {"name": "notifications.tasks.delivery_send", "id": "3", "exc": "timeout"}
    emit("celery.app.trace", "Task %(name)s[%(id)s] retry: %(exc)s", retry)
    lines = stream.getvalue().splitlines()
    # The delivery's own success is bookkeeping (its PUSH or PAGE line says what it did).
    assert len(lines) == 2 and "'incidents': 1" in lines[0] and "retry: timeout" in lines[1]
    routine_filter.last_summary -= 61
    emit("celery.beat", "Scheduler: Sending due task %s (%s)", ("sweep", SWEEP))
    summary = stream.getvalue().splitlines()[-1]
    assert summary.startswith("Routine: 25 scheduled task line(s) in the last 61 s")


def test_only_beat_sums_up_so_the_worker_pool_adds_no_line_of_its_own(routine):
    stream, routine_filter = routine
    nothing = {"name": SWEEP, "id": "1", "return_value": "None"}
    routine_filter.last_summary -= 61
    emit("celery.app.trace", "Task %(name)s[%(id)s] succeeded: %(return_value)s", nothing)
    assert stream.getvalue() == ""
    emit("celery.beat", "Scheduler: Sending due task %s (%s)", ("sweep", SWEEP))
    assert stream.getvalue().startswith("Routine: 2 scheduled task line(s)")


@pytest.fixture
def console():
    """The console handler the settings configure, writing to a string for the test."""
    [handler] = [h for h in logging.getLogger().handlers if h.name == "console"]
    request_logger = logging.getLogger("django.request")
    disabled, request_logger.disabled = request_logger.disabled, False
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)
    request_logger.disabled = disabled


def test_a_forbidden_page_is_one_warning_line_without_a_traceback(
    client, django_user_model, console
):
    outsider = django_user_model.objects.create_user("outsider", password="x", is_staff=True)
    client.force_login(outsider)
    assert client.get("/support/reports/").status_code == 403
    lines = console.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert re.fullmatch(
        rf"{ISO} WARNING django.request Forbidden \(Permission denied\): /support/reports/",
        lines[0],
    )


def test_a_server_error_keeps_its_traceback():
    error = record("django.request", "Internal Server Error: %s", ("/x",), logging.ERROR)
    error.status_code = 500
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        error.exc_info = sys.exc_info()
    [handler] = [h for h in logging.getLogger().handlers if h.name == "console"]
    assert all(f.filter(error) for f in handler.filters)
    assert "Traceback" in handler.format(error)
