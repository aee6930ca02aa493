"""Run a command on a pseudo-terminal and answer its prompts, as a person at a keyboard would.

usage: pty_drive.py STEPS_JSON COMMAND...
STEPS_JSON is a list of [text to wait for, keys to type]. Prints one JSON object:
{"code": exit code (128+N when killed by signal N), "output": everything the terminal showed}.
"""

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time

steps = json.loads(sys.argv[1])
command = sys.argv[2:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))


def controlling_terminal():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


proc = subprocess.Popen(
    command, stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_terminal, close_fds=True
)
os.close(slave)
seen = b""


def pump(timeout):
    global seen
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        return False
    try:
        chunk = os.read(master, 65536)
    except OSError:
        return None
    if not chunk:
        return None
    seen += chunk
    return True


cursor = 0
for expect, keys in steps:
    deadline = time.time() + 15
    while seen.find(expect.encode(), cursor) < 0:
        if time.time() > deadline or pump(0.2) is None:
            print(json.dumps({"code": None, "output": seen.decode(errors="replace"), "waiting_for": expect}))
            proc.kill()
            sys.exit(0)
    cursor = seen.find(expect.encode(), cursor) + len(expect.encode())
    time.sleep(0.15)
    os.write(master, keys.encode())

deadline = time.time() + 15
while proc.poll() is None and time.time() < deadline:
    pump(0.1)
while pump(0.05):
    pass
if proc.poll() is None:
    proc.kill()
    proc.wait()
code = proc.returncode
print(json.dumps({"code": 128 - code if code < 0 else code, "output": seen.decode(errors="replace")}))
