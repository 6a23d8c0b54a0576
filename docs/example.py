"""The published example: watch a directory, change it, print what happened."""
import os
import shutil
import tempfile

from inotify_simple import INotify
from inotify_simple import flags

top = tempfile.mkdtemp()
path = os.path.join(top, 'inotify_test')
os.mkdir(path)

with INotify() as inotify:
    watch_flags = flags.CREATE | flags.DELETE | flags.MODIFY | flags.DELETE_SELF
    wd = inotify.add_watch(path, watch_flags)

    # Change the directory, as `mkdir foo`, `echo hello > test.txt`,
    # `echo world >> test.txt`, `rm test.txt`, `rmdir foo` would:
    os.mkdir(os.path.join(path, 'foo'))                # CREATE, ISDIR
    with open(os.path.join(path, 'test.txt'), 'w') as f:
        f.write('hello\n')                             # CREATE, MODIFY
    with open(os.path.join(path, 'test.txt'), 'a') as f:
        f.write('world\n')                             # MODIFY (merged with the last)
    os.remove(os.path.join(path, 'test.txt'))          # DELETE
    os.rmdir(os.path.join(path, 'foo'))                # DELETE, ISDIR
    os.rmdir(path)                                     # DELETE_SELF, then IGNORED

    for event in inotify.read():
        print(event)
        for flag in flags.from_mask(event.mask):
            print('    ' + str(flag))

shutil.rmtree(top)
