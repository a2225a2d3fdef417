"""The background writer: jobs run in order off the caller's thread, failures are logged,
a full queue degrades to running jobs at once, and each forked process gets its own thread."""
from __future__ import annotations

import logging
import os
import threading

from idp.accounts.writer import BackgroundWriter


def test_jobs_run_in_order_in_another_thread():
    """Submitted jobs all run, in submission order, outside the submitting thread."""
    writer = BackgroundWriter(interval=0.005)
    done: list[tuple[int, str]] = []
    for number in range(20):
        writer.submit(lambda n=number: done.append((n, threading.current_thread().name)), "t")
    assert writer.flush(5)
    assert [n for n, _ in done] == list(range(20))
    assert {name for _, name in done} == {"educonnect-writer"}


def test_a_failing_job_is_logged_and_the_next_ones_still_run(caplog):
    """An exception is logged with the job's name; later jobs are not affected."""
    writer = BackgroundWriter(interval=0.005)
    done = []

    def fail():
        raise RuntimeError("directory down")

    with caplog.at_level(logging.ERROR, logger="educonnect.accounts"):
        writer.submit(fail, "last-login")
        writer.submit(lambda: done.append(1), "t")
        assert writer.flush(5)
    assert done == [1]
    record = next(r for r in caplog.records if r.name == "educonnect.accounts")
    assert record.job == "last-login" and "background directory write failed" in record.message


def test_a_directory_failure_is_logged_without_traceback_or_dn(caplog):
    """A directory error names the job and the error kind only: its traceback would carry the
    entry's DN (personal data)."""
    from directory.errors import EntryNotFound
    writer = BackgroundWriter(interval=0.005)

    def fail():
        raise EntryNotFound("No such object: uid=c.martin47,ou=people,dc=educonnect")

    with caplog.at_level(logging.ERROR, logger="educonnect.accounts"):
        writer.submit(fail, "last-login")
        assert writer.flush(5)
    record = next(r for r in caplog.records if r.name == "educonnect.accounts")
    assert record.job == "last-login" and record.error == "EntryNotFound"
    assert record.exc_info is None and "c.martin47" not in caplog.text


def test_full_queue_runs_the_job_in_the_caller():
    """Past max_pending, a submission runs synchronously instead of being dropped."""
    gate = threading.Event()
    writer = BackgroundWriter(max_pending=1, interval=0.005)
    writer.submit(gate.wait, "blocker")
    assert not writer.flush(0.05)  # the blocker holds the thread
    writer.submit(lambda: None, "queued")
    ran_here = []
    writer.submit(lambda: ran_here.append(threading.current_thread().name), "inline")
    assert ran_here == [threading.current_thread().name]
    gate.set()
    assert writer.flush(5)


def test_forked_child_gets_its_own_thread():
    """A writer used before fork works in the child (its own thread and queue)."""
    writer = BackgroundWriter(interval=0.005)
    writer.submit(lambda: None, "parent")
    assert writer.flush(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        done = []
        writer.submit(lambda: done.append(threading.current_thread().name), "child")
        ok = writer.flush(5) and done == ["educonnect-writer"]
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    result = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)
    assert result == b"1"
