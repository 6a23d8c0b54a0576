"""Recover from a queue overflow: the events are lost, so rescan what you watch."""
import os
import shutil
import tempfile

from inotify_simple import INotify, flags, masks


def follow(inotify, directory, known):
    """Keep ``known`` (a set of names) equal to the directory's entries."""
    for event in inotify.read(timeout=0):
        if event.mask & flags.Q_OVERFLOW:  # wd == -1: some events never came
            known.clear()
            known.update(os.listdir(directory))  # the truth, from the disk
        elif event.mask & (flags.CREATE | flags.MOVED_TO):
            known.add(event.name)
        elif event.mask & (flags.DELETE | flags.MOVED_FROM):
            known.discard(event.name)


if __name__ == '__main__':
    directory = tempfile.mkdtemp()
    with open('/proc/sys/fs/inotify/max_queued_events') as f:
        limit = int(f.read())
    with INotify() as inotify:
        inotify.add_watch(directory, flags.CREATE | flags.DELETE | masks.MOVE)
        known = set()
        for i in range(limit + 10):  # more than the queue holds: it overflows
            open(os.path.join(directory, str(i)), 'w').close()
        follow(inotify, directory, known)
        print(len(known) == limit + 10)
    shutil.rmtree(directory)
