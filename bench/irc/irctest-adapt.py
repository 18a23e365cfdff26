#!/usr/bin/env python3
"""irctest-adapt.py [IRCTEST_DIR]   (default /tmp/irctest)

Local adaptations of an unpacked progval/irctest so that it runs with
Debian 12's python3-pytest (7.2, pluggy 1.0) against ONE shared external
server.  Edits IRCTEST_DIR/conftest.py in place; idempotent (a marker line
says it was done).  Nothing of irctest is kept in this repository.

1. Current irctest wraps pytest_runtest_call with a new-style hook wrapper,
   @pytest.hookimpl(wrapper=True), which pluggy 1.0 does not know (pytest
   refuses to start).  It is rewritten as an old-style hookwrapper with the
   same behaviour (an OptionalBehaviorNotSupported skip becomes an error
   when the controller claims the behaviour).
2. With an external server every test shares one server process.  When a
   test's setUp connects clients and then skips or fails, teardown_method
   never runs, the clients stay registered (nicks, channels) and break the
   following tests; and a plain close at teardown races with the next
   test's registration of the same nick on servers that release it
   asynchronously (Ergo: "433 Nickname is already in use").  A
   pytest_runtest_teardown wrapper QUITs every client and waits (at most
   1 s each) for the server to close it, then closes whatever is left.
"""
import re
import sys

MARK = "# sockit-bench local adaptation v2 (irctest-adapt.py)"

NEW = MARK + '''
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Old-style hook wrapper (pluggy 1.0): an OptionalBehaviorNotSupported
    skip is an error when the controller claims that behaviour."""
    outcome = yield
    excinfo = outcome.excinfo
    if excinfo is None or not isinstance(excinfo[1], OptionalBehaviorNotSupported):
        return
    behavior = excinfo[1].args[0]
    controller = getattr(item.instance, "controller", None)
    if controller is not None and behavior in controller.optional_behaviors:
        exc = Exception(
            f"Software {controller.software_name} must support behavior "
            f"{behavior} but does not"
        )
        if hasattr(outcome, "force_exception"):
            outcome.force_exception(exc)
        else:
            outcome._excinfo = (type(exc), exc, None)


def _sockit_quit_and_wait(client, timeout=1.0):
    """QUIT, then read until the server closes (bounded): once the server
    has closed the connection it has released the client's nick and
    channels, so the next test can reuse them."""
    import select
    import time
    conn = getattr(client, "conn", None)
    if conn is None:
        return
    try:
        conn.sendall(b"QUIT :irctest teardown\\r\\n")
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([conn], [], [], left)[0]:
                break
            if not conn.recv(65536):
                break
    except Exception:
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Shared external server: before the test's own teardown, QUIT every
    client and wait for the server to close it (a bare close races with the
    next test's registration on servers that release nicks asynchronously);
    afterwards close whatever clients a test left behind."""
    inst = getattr(item, "instance", None)
    clients = getattr(inst, "clients", None) if inst is not None else None
    if clients:
        for name in list(clients):
            _sockit_quit_and_wait(clients[name])
    yield
    clients = getattr(inst, "clients", None) if inst is not None else None
    if clients:
        for name in list(clients):
            try:
                clients[name].disconnect()
            except Exception:
                pass
        clients.clear()
'''


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "/tmp/irctest"
    path = d.rstrip("/") + "/conftest.py"
    src = open(path).read()
    if MARK in src:
        print(f"{path}: already adapted")
        return 0
    old = src.find("# sockit-bench local adaptation")
    if old >= 0:
        # An older version of this adaptation: it replaced irctest's last
        # function, so it runs to the end of the file.
        open(path, "w").write(src[:old] + NEW)
        print(f"{path}: adaptation updated")
        return 0
    # The original wrapper: from its decorator to the next top-level
    # statement (or the end of the file).
    m = re.search(r"^@pytest\.hookimpl\([^)]*\)\ndef pytest_runtest_call\(item\):\n"
                  r"(?:[ \t].*\n|\n)*", src, re.M)
    if m:
        src = src[:m.start()] + NEW + "\n" + src[m.end():]
    elif "def pytest_runtest_call" in src:
        print(f"{path}: pytest_runtest_call has an unexpected shape; adapt by hand",
              file=sys.stderr)
        return 1
    else:
        src = src.rstrip("\n") + "\n\n\n" + NEW
    open(path, "w").write(src)
    print(f"{path}: adapted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
