#!/usr/bin/env python3
"""Send one QMP command: qmp.py SOCKET COMMAND [ARGUMENTS-JSON]

Connects, negotiates (qmp_capabilities), sends COMMAND and prints its
"return" value as JSON on stdout.  Exit 1 on a QMP error, 2 on a
connection/protocol problem.  Every socket operation has a timeout.
"""
import json
import socket
import sys

TIMEOUT = 10.0


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    path, cmd = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) == 4 else None
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect(path)
        f = s.makefile("rwb")

        def recv():
            while True:
                line = f.readline()
                if not line:
                    raise EOFError("QMP connection closed")
                msg = json.loads(line)
                if "event" in msg:
                    continue
                return msg

        def send(name, arguments=None):
            m = {"execute": name}
            if arguments is not None:
                m["arguments"] = arguments
            f.write(json.dumps(m).encode() + b"\n")
            f.flush()
            return recv()

        greeting = recv()
        if "QMP" not in greeting:
            raise ValueError("no QMP greeting: %r" % greeting)
        r = send("qmp_capabilities")
        if "error" in r:
            raise ValueError("qmp_capabilities: %r" % r)
        if cmd == "quit":
            # The reply may race with the connection closing.
            try:
                send(cmd, args)
            except (OSError, EOFError):
                pass
            print("{}")
            return 0
        r = send(cmd, args)
    except (OSError, EOFError, ValueError) as e:
        print("qmp.py: %s: %s" % (cmd, e), file=sys.stderr)
        return 2
    if "error" in r:
        print("qmp.py: %s: %s" % (cmd, r["error"]), file=sys.stderr)
        return 1
    print(json.dumps(r["return"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
