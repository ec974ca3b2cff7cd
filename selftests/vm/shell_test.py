#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""cluster.sh --shell, driven as a person would through a pseudo-terminal.

Boots a 2-node cluster with the shell on node 1, waits for its prompt, and
checks: the shell has a terminal (/dev/hvc1); `on 2 CMD` runs a command on
node 2 and passes its exit status back; a region node 1 fills reads back on
node 2; Ctrl-C interrupts a command in the guest, not cluster.sh; `exit`
stops the cluster and cluster.sh exits 0. Prints TAP; exits 1 on a failure.

    shell_test.py CLUSTER_SH [cluster.sh options...]
"""
import os
import pty
import re
import select
import signal
import sys
import time

PROMPT = "node1# "
TESTS = 6


class Session:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        self.seen = ""      # everything the terminal showed, for failures
        self.buf = ""       # what has not been matched yet
        self.rc = None      # cluster.sh's exit status, once it ended

    def expect(self, pattern, timeout):
        """Wait until @pattern appears; return its match or None."""
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(self.fd, 4096).decode(errors="replace")
            except OSError:     # the child closed the terminal
                return None
            self.seen += data
            self.buf += data

    def send(self, text):
        os.write(self.fd, text.encode())

    def run(self, cmd, timeout=120):
        """Type @cmd at the prompt; return its output up to the next prompt."""
        self.send(cmd + "\n")
        m = self.expect(re.escape(PROMPT), timeout)
        return None if m is None else m.string[:m.start()]

    def wait(self, timeout):
        """cluster.sh's exit status, waiting up to @timeout; None if running."""
        end = time.monotonic() + timeout
        while self.rc is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.rc = os.waitstatus_to_exitcode(status)
            elif time.monotonic() >= end:
                break
            else:
                self.expect(r"(?!)", 0.5)   # drain the terminal meanwhile
        return self.rc


def main():
    n = 0
    failed = 0

    def tap(ok, what):
        nonlocal n, failed
        n += 1
        print(("ok %d - " if ok else "not ok %d - ") % n + what, flush=True)
        failed += not ok

    print("TAP version 13\n1..%d" % TESTS, flush=True)
    s = Session([sys.argv[1], "--shell", "--nodes", "2"] + sys.argv[2:])
    try:
        if not s.expect(re.escape(PROMPT), 600):
            tap(False, "the cluster boots and node 1 gives a prompt")
            return 1
        tap(True, "the cluster boots and node 1 gives a prompt")
        out = s.run("tty") or ""
        tap("/dev/hvc1" in out, "the shell has a terminal: " + (out.split() or ["none"])[-1])
        out = s.run("on 2 'hostname; dsmctl -j show | grep -o \"\\\"id\\\":[0-9]*\" | head -1'") or ""
        tap("node2" in out and '"id":2' in out, "on 2 runs a command on node 2: " +
            " ".join(out.split()[-2:]))
        out = s.run("dsm_fill fill 0x5e11 65536 && on 2 dsm_fill verify 0x5e11; echo rc=$?; "
                    "on 2 false; echo rc=$?") or ""
        tap("rc=0" in out and "rc=1" in out,
            "node 2 reads what node 1 wrote; exit statuses come back: " +
            " ".join(re.findall(r"rc=\d+", out)))
        s.send("echo go-$((1 + 1)); sleep 1000\n")
        s.expect("go-2", 60)        # sleep is about to run in the foreground
        time.sleep(1)
        s.send("\x03")
        s.send("echo after-$((6 * 7))\n")     # only its output says 42
        tap(s.expect("after-42", 60) is not None,
            "Ctrl-C interrupts the guest's command")
        s.expect(re.escape(PROMPT), 10)
        s.send("exit\n")
        rc = s.wait(300)
        tap(rc == 0, "exit stops the cluster; cluster.sh exits %s" % rc)
    finally:
        if s.wait(0) is None:
            os.kill(s.pid, signal.SIGTERM)  # cluster.sh ends its QEMUs
            s.wait(60)
        if failed:
            sys.stdout.write("# the terminal showed:\n" +
                             "".join("# " + line + "\n" for line in s.seen.splitlines()[-60:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
