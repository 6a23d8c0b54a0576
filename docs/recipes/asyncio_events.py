"""An async iterator over inotify events, driven by the event loop's add_reader."""
import asyncio
import os
import shutil
import tempfile

from inotify_simple import INotify, flags


async def events(inotify):
    """Yield events as they come; stops cleanly when the generator is closed."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    loop.add_reader(inotify.fileno(), ready.set)
    try:
        while True:
            await ready.wait()
            ready.clear()
            for event in inotify.read(timeout=0):  # never blocks the loop
                yield event
    finally:
        loop.remove_reader(inotify.fileno())


async def main():
    directory = tempfile.mkdtemp()
    with INotify() as inotify:
        inotify.add_watch(directory, flags.CREATE)

        async def make_files():
            for name in ('a', 'b', 'c'):
                open(os.path.join(directory, name), 'w').close()
                await asyncio.sleep(0)
        maker = asyncio.ensure_future(make_files())
        stream = events(inotify)
        async for event in stream:
            print(event.name)
            if event.name == 'c':
                break
        await stream.aclose()  # runs the finally: the reader is removed
        await maker
    shutil.rmtree(directory)


if __name__ == '__main__':
    asyncio.run(main())
