"""Read the descriptor yourself and unpack the bytes with parse_events."""
from __future__ import print_function

import os
import shutil
import tempfile

from inotify_simple import INotify, flags, parse_events

if __name__ == '__main__':
    directory = tempfile.mkdtemp()
    with INotify(nonblocking=True) as inotify:
        inotify.add_watch(directory, flags.CREATE)
        open(os.path.join(directory, 'made'), 'w').close()
        # A buffer this size holds at least one event with the longest name
        # (inotify(7): sizeof(struct inotify_event) + NAME_MAX + 1).
        data = os.read(inotify.fd, 16 + 255 + 1)
        print(parse_events(data))
        try:
            os.read(inotify.fd, 4096)
        except OSError as e:  # BlockingIOError: nothing more is queued
            print('then nothing: errno', e.errno)
    shutil.rmtree(directory)
