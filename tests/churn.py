"""Random churn of a directory tree: the changes a tree watcher meets, chosen by
numbers (from Hypothesis or a seeded random), and every path each file held. For
the tests and the benchmarks; it needs nothing but the standard library."""
import os
import shutil

from exact import CannotExchange
from exact import exchange


class Churn(object):
    """A tree below ``top`` (with a place ``outside`` it), changed one operation at
    a time. Every file is made with a name of its own; ``held`` is every path each
    file had (looked at after each operation), ``inside`` the files in the tree
    now, ``deleted`` those that are gone, and ``left`` those that may be reported
    more than once: they were outside the tree, or their directory moved into one
    that the tree had not seen yet (made or moved in since it last read: to the
    tree, it is new there, and what it holds is reported with it)."""

    OPERATIONS = ('mkdir', 'makedirs', 'rename', 'rename_over', 'move_out',
                  'move_in', 'out_and_back', 'build_and_move_in', 'rmtree',
                  'to_link', 'exchange', 'files')

    def __init__(self, top, outside):
        self.top, self.outside = top, outside
        self.made = 0
        self.held = {}
        self.left = set()
        self.deleted = set()
        self.inside = set()
        self.fresh = set()  # inodes of directories come since the tree last read
        self.done = []  # the operations, as they were done, for a failure's message

    def name(self, kind):
        self.made += 1
        return '%s%d' % (kind, self.made)

    def directories(self, where, below=None):
        """The directories below ``where`` (itself included), but what is below
        ``below``; links are not followed."""
        found = []
        for directory, _, _ in os.walk(where):
            if below is None or not (directory + os.sep).startswith(below + os.sep):
                found.append(directory)
        return sorted(found)

    def read(self):
        """The tree has read: the directories that came are watched."""
        self.fresh.clear()

    def came(self, path):
        """Directory ``path`` came, with every directory below it."""
        for directory, _, _ in os.walk(path):
            self.fresh.add(os.lstat(directory).st_ino)

    def into_fresh(self, parent):
        """Whether directory ``parent``, or one above it in the tree, came since the
        tree last read."""
        while parent.startswith(self.top + os.sep):
            if os.lstat(parent).st_ino in self.fresh:
                return True
            parent = os.path.dirname(parent)
        return False

    def moved(self, path, into):
        """What is below ``path`` moved there: if ``into`` a directory not watched
        yet, its files may be reported again."""
        if into:
            for _, _, files in os.walk(path):
                self.left.update(files)

    def pick(self, number, options):
        return options[number % len(options)] if options else None

    def do(self, operation, a, b, c):
        """Do ``operation`` (one of OPERATIONS) with what numbers ``a``, ``b`` and
        ``c`` choose; then look at where every file is."""
        getattr(self, operation)(a, b, c)
        self.look()

    def look(self):
        present, self.inside = set(), set()
        for where, outside in ((self.top, False), (self.outside, True)):
            for directory, _, files in os.walk(where):
                for name in files:
                    present.add(name)
                    self.held.setdefault(name, set()).add(os.path.join(directory,
                                                                       name))
                    (self.left if outside else self.inside).add(name)
        self.deleted.update(set(self.held) - present)

    def below_top(self, number):
        """A directory below the top (not the top itself)."""
        return self.pick(number, self.directories(self.top)[1:])

    # The operations

    def mkdir(self, a, b, c):
        path = os.path.join(self.pick(a, self.directories(self.top)), self.name('d'))
        os.mkdir(path)
        self.came(path)
        self.done.append(('mkdir', path))

    def makedirs(self, a, b, c):
        path = self.pick(a, self.directories(self.top))
        first = None
        for _ in range(1 + b % 3):
            path = os.path.join(path, self.name('d'))
            first = first or path
        os.makedirs(path)
        self.came(first)
        self.files(0, c, 0, where=path)
        self.done.append(('makedirs', path))

    def rename(self, a, b, c):
        """A directory renamed, or moved elsewhere in the tree."""
        source = self.below_top(a)
        if source is None:
            return
        target = os.path.join(self.pick(b, self.directories(self.top, source)),
                              self.name('d'))
        into = self.into_fresh(os.path.dirname(target))
        os.rename(source, target)
        self.moved(target, into)
        self.done.append(('rename', source, target))

    def rename_over(self, a, b, c):
        """A directory renamed over an empty one."""
        source = self.below_top(a)
        empty = [path for path in self.directories(self.top, source)[1:]
                 if not os.listdir(path) and not source.startswith(path + os.sep)]
        target = self.pick(b, empty)
        if source is None or target is None:
            return
        into = self.into_fresh(os.path.dirname(target))
        os.rename(source, target)
        self.moved(target, into)
        self.done.append(('rename_over', source, target))

    def move_out(self, a, b, c):
        source = self.below_top(a)
        if source is not None:
            target = os.path.join(self.outside, self.name('o'))
            os.rename(source, target)
            self.done.append(('move_out', source, target))

    def move_in(self, a, b, c):
        source = self.pick(a, self.directories(self.outside)[1:])
        if source is not None:
            target = os.path.join(self.pick(b, self.directories(self.top)),
                                  self.name('d'))
            os.rename(source, target)
            self.came(target)
            self.done.append(('move_in', source, target))

    def out_and_back(self, a, b, c):
        source = self.below_top(a)
        if source is not None:
            for _, _, files in os.walk(source):
                self.left.update(files)
            away = os.path.join(self.outside, self.name('o'))
            os.rename(source, away)
            os.rename(away, source)
            self.came(source)  # to the tree, one left and another came
            self.done.append(('out_and_back', source))

    def build_and_move_in(self, a, b, c):
        built = os.path.join(self.outside, self.name('b'))
        path = built
        for _ in range(1 + b % 3):
            path = os.path.join(path, self.name('d'))
            os.makedirs(path)
            self.files(0, c, 0, where=path)
        target = os.path.join(self.pick(a, self.directories(self.top)), self.name('d'))
        self.look()  # its files were outside
        os.rename(built, target)
        self.came(target)
        self.done.append(('build_and_move_in', target))

    def rmtree(self, a, b, c):
        path = self.below_top(a)
        if path is not None:
            shutil.rmtree(path)
            self.done.append(('rmtree', path))

    def to_link(self, a, b, c):
        """A directory replaced by a link to one outside."""
        path = self.below_top(a)
        if path is not None:
            shutil.rmtree(path)
            os.symlink(self.outside, path)
            self.done.append(('to_link', path))

    def exchange(self, a, b, c):
        """Two directories, neither below the other, swapped at once."""
        first = self.below_top(a)
        others = [path for path in self.directories(self.top, first)[1:]
                  if first is not None and not first.startswith(path + os.sep)]
        second = self.pick(b, others)
        if second is None:
            return
        into = (self.into_fresh(os.path.dirname(second)),
                self.into_fresh(os.path.dirname(first)))
        try:
            exchange(first, second)
        except CannotExchange:
            os.rename(first, first + '.x')  # three renames instead
            os.rename(second, first)
            os.rename(first + '.x', second)
        self.moved(second, into[0])  # what was at first is at second now
        self.moved(first, into[1])
        self.done.append(('exchange', first, second))

    def files(self, a, b, c, where=None):
        if where is None:
            where = self.pick(a, self.directories(self.top))
            self.done.append(('files', where))
        for _ in range(b % 4):
            open(os.path.join(where, self.name('f')), 'w').close()
