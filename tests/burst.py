"""One burst at full speed in a watched tree, for the tests and the benchmarks (it
needs nothing but the standard library): what it made, and where each file may
be reported."""
import os


def make(path):
    open(path, 'w').close()


def churn(top, outside):
    """One burst at full speed. Returns the files expected, each with the paths
    it may be reported at, and every path that held a file."""
    expected, held = {}, set()

    def made(*paths):
        expected[paths[0]] = paths
        held.update(paths)
    for tree in range(5):  # made with makedirs, filled at every level at once
        deepest = os.path.join(top, 'm%d' % tree, 'a', 'b')
        os.makedirs(deepest)
        for level in (deepest, os.path.dirname(deepest),
                      os.path.dirname(os.path.dirname(deepest))):
            for i in range(20):
                made(os.path.join(level, 'f%d' % i))
                make(os.path.join(level, 'f%d' % i))
    for tree in range(3):  # built outside, moved in
        built = os.path.join(outside, 'o%d' % tree)
        os.makedirs(os.path.join(built, 'deep'))
        for i in range(10):
            for where in ('', 'deep'):
                make(os.path.join(built, where, 'g%d' % i))
                made(os.path.join(top, 'o%d' % tree, where, 'g%d' % i))
        os.rename(built, os.path.join(top, 'o%d' % tree))
    for tree in range(2):  # made, filled, renamed at once, filled again
        first = os.path.join(top, 'n%d' % tree)
        then = first + '-renamed'
        os.mkdir(first)
        for i in range(10):
            make(os.path.join(first, 'h%d' % i))
            made(os.path.join(then, 'h%d' % i), os.path.join(first, 'h%d' % i))
        os.rename(first, then)
        for i in range(10):
            make(os.path.join(then, 'k%d' % i))
            made(os.path.join(then, 'k%d' % i))
    for i in range(60):  # made, filled and removed at once, half renamed first
        path = os.path.join(top, 't%d' % i)
        os.mkdir(path)
        make(os.path.join(path, 'x'))
        held.add(os.path.join(path, 'x'))
        if i % 2:
            os.rename(path, path + '-r')
            path += '-r'
            held.add(os.path.join(path, 'x'))
        os.remove(os.path.join(path, 'x'))
        os.rmdir(path)
    for i in range(20):  # then new files
        made(os.path.join(top, 'late%d' % i))
        make(os.path.join(top, 'late%d' % i))
    return expected, held
