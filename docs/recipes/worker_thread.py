"""Read events in a worker thread; stop it from another thread with close()."""
from __future__ import print_function

import os
import shutil
import tempfile
import threading

try:
    import queue
except ImportError:  # Python 2.7
    import Queue as queue

from inotify_simple import INotify, flags


def worker(inotify, handle):
    """Hand every event to ``handle`` until the instance is closed."""
    while True:
        try:
            events = inotify.read()  # blocks; close() wakes it with []
        except ValueError:  # closed before this read began
            return
        if not events and inotify.closed:
            return
        for event in events:
            handle(event)


if __name__ == '__main__':
    directory = tempfile.mkdtemp()
    inotify = INotify()
    inotify.add_watch(directory, flags.CREATE)
    got = queue.Queue()
    thread = threading.Thread(target=worker, args=(inotify, got.put))
    thread.start()
    open(os.path.join(directory, 'made'), 'w').close()
    print(got.get(timeout=30).name)
    inotify.close()  # wakes the worker, which returns
    thread.join(30)
    print('worker stopped:', not thread.is_alive())
    shutil.rmtree(directory)
