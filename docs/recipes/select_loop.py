"""Wait for inotify events together with other files, with select or selectors."""
import os
import select
import selectors
import shutil
import tempfile

from inotify_simple import INotify, flags


def with_select(inotify, other_files, timeout):
    """The events of ``inotify`` when select() says it is readable; else []."""
    readable, _, _ = select.select([inotify] + other_files, [], [], timeout)
    return inotify.read(timeout=0) if inotify in readable else []


def with_selectors(inotify, timeout):
    """The same with the selectors module, which picks epoll on Linux."""
    with selectors.DefaultSelector() as selector:
        selector.register(inotify, selectors.EVENT_READ)
        return inotify.read(timeout=0) if selector.select(timeout) else []


if __name__ == '__main__':
    directory = tempfile.mkdtemp()
    with INotify() as inotify:
        inotify.add_watch(directory, flags.CREATE)
        open(os.path.join(directory, 'one'), 'w').close()
        print([e.name for e in with_select(inotify, [], timeout=10)])
        open(os.path.join(directory, 'two'), 'w').close()
        print([e.name for e in with_selectors(inotify, timeout=10)])
        print(with_selectors(inotify, timeout=0.01))
    shutil.rmtree(directory)
