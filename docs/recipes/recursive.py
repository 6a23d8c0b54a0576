"""Watch a directory tree: new directories get watched, moves are followed by cookie.

inotify watches one directory, not what is below it. This adds a watch for every
directory, including those made later. A directory is watched first and listed
second, so that nothing made in it between the two is missed (it may be reported
twice instead: treat 'created' as idempotent).
"""
from __future__ import print_function

import os
import shutil
import tempfile

from inotify_simple import INotify, flags, masks

MASK = flags.CREATE | flags.DELETE | masks.MOVE | flags.ONLYDIR


class Tree(object):
    def __init__(self, inotify, top):
        self.inotify = inotify
        self.directories = {}  # wd -> the directory it watches
        self.watch(top)

    def watch(self, directory):
        """Watch ``directory`` and below; the paths found there, already made."""
        try:
            wd = self.inotify.add_watch(directory, MASK)
            names = sorted(os.listdir(directory))
        except OSError:  # gone, or no longer a directory: its events will say
            return []
        self.directories[wd] = directory
        found = []
        for name in names:
            path = os.path.join(directory, name)
            found.append(path)
            if os.path.isdir(path) and not os.path.islink(path):
                found += self.watch(path)
        return found

    def changes(self, timeout=None):
        """What changed: ('created', path), ('deleted', path), ('moved', old, new)."""
        changes, moved_from = [], {}  # cookie -> path, until its MOVED_TO
        for event in self.inotify.read(timeout=timeout):
            directory = self.directories.get(event.wd)
            if event.mask & flags.IGNORED:
                self.directories.pop(event.wd, None)
            if directory is None or not event.name:
                continue
            path = os.path.join(directory, event.name)
            if event.mask & flags.MOVED_FROM:
                moved_from[event.cookie] = path
            elif event.mask & flags.MOVED_TO and event.cookie in moved_from:
                old = moved_from.pop(event.cookie)
                changes.append(('moved', old, path))
                for wd, watched in self.directories.items():  # watches move along
                    if watched == old or watched.startswith(old + os.sep):
                        self.directories[wd] = path + watched[len(old):]
            elif event.mask & (flags.CREATE | flags.MOVED_TO):
                changes.append(('created', path))
                if event.mask & flags.ISDIR:
                    changes += [('created', found) for found in self.watch(path)]
            elif event.mask & flags.DELETE:
                changes.append(('deleted', path))
        # rename() queues MOVED_FROM and MOVED_TO together: one left alone here
        # was a move out of the tree
        changes += [('deleted', path) for path in moved_from.values()]
        return changes


if __name__ == '__main__':
    top = tempfile.mkdtemp()
    outside = tempfile.mkdtemp()

    def show(tree):
        for change in tree.changes(timeout=1000):
            print(change[0], ' '.join(os.path.relpath(p, top) for p in change[1:]))
    with INotify() as inotify:
        tree = Tree(inotify, top)
        os.makedirs(os.path.join(top, 'a', 'b'))        # b may predate a's watch
        show(tree)
        open(os.path.join(top, 'a', 'b', 'f'), 'w').close()
        show(tree)
        os.rename(os.path.join(top, 'a'), os.path.join(top, 'renamed'))
        show(tree)
        open(os.path.join(top, 'renamed', 'b', 'g'), 'w').close()
        show(tree)
        os.rename(os.path.join(top, 'renamed', 'b', 'g'), os.path.join(outside, 'g'))
        show(tree)
    shutil.rmtree(top)
    shutil.rmtree(outside)
