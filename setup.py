"""The metadata is in setup.cfg but for two things: the version, in the module,
read here without importing it (Python 2.7's setuptools would import it, without
enum34); and the stub packages' data, whose names setup.cfg cannot give to Python
2.7's setuptools (it reads inotify_simple-stubs there as inotify_simple_stubs)."""
import io
import os
import re

from setuptools import setup

with io.open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'inotify_simple.py'), encoding='utf-8') as module:
    version = re.search(r"^__version__ = '([^']+)'", module.read(), re.M).group(1)

setup(version=version,
      package_data={'inotify_simple-stubs': ['__init__.pyi'],
                    'inotify_simple_tree-stubs': ['__init__.pyi']})
