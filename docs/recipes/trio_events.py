"""Inotify events in trio: wait until the descriptor is readable, then read."""
import os
import shutil
import tempfile

import trio

from inotify_simple import INotify, flags


async def next_events(inotify):
    """The next batch of events, waiting for them without blocking trio."""
    while True:
        await trio.lowlevel.wait_readable(inotify.fileno())
        events = inotify.read(timeout=0)
        if events:
            return events


async def main():
    directory = tempfile.mkdtemp()
    with INotify() as inotify:
        inotify.add_watch(directory, flags.CREATE)
        async with trio.open_nursery() as nursery:
            async def make_file():
                open(os.path.join(directory, 'made'), 'w').close()
            nursery.start_soon(make_file)
            with trio.fail_after(30):
                print([event.name for event in await next_events(inotify)])
    shutil.rmtree(directory)


if __name__ == '__main__':
    trio.run(main)
