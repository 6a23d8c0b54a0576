"""Watch a directory tree: inotify_simple_tree.Tree watches every directory of it.

New directories are watched, and what they already hold comes as CREATE events;
moves keep their watches; a move out of the tree ends them. Each event has the
path of what it is about.
"""
from __future__ import print_function

import os
import shutil
import tempfile

from inotify_simple import flags, masks
from inotify_simple_tree import Tree

top = tempfile.mkdtemp()
outside = tempfile.mkdtemp()


def show(tree, last):
    """Print the events up to the one about ``last``."""
    path = None
    while path != last:
        for event in tree.read(timeout=10000):
            path = os.path.relpath(event.path, top)
            print(flags(event.mask & ~flags.ISDIR).name, path)


with Tree(top, flags.CREATE | flags.DELETE | masks.MOVE) as tree:
    os.makedirs(os.path.join(top, 'a', 'b'))        # b may predate a's watch
    open(os.path.join(top, 'a', 'b', 'f'), 'w').close()
    show(tree, 'a/b/f')
    os.rename(os.path.join(top, 'a'), os.path.join(top, 'renamed'))
    show(tree, 'renamed')
    open(os.path.join(top, 'renamed', 'b', 'g'), 'w').close()
    show(tree, 'renamed/b/g')
    os.rename(os.path.join(top, 'renamed', 'b', 'g'), os.path.join(outside, 'g'))
    show(tree, 'renamed/b/g')
shutil.rmtree(top)
shutil.rmtree(outside)
