"""A command that waits to be stopped by a signal (tests/test_forkserver.py): it says when it is ready, and its
shutdown says what it ran."""

import atexit
import time

atexit.register(lambda: print("atexit ran", flush=True))
print("ready", flush=True)
time.sleep(60)
