import io
import os
import re

from setuptools import setup

here = os.path.dirname(os.path.abspath(__file__))


def read(name):
    with io.open(os.path.join(here, name), encoding='utf-8') as f:
        return f.read()


version = re.search(r"^__version__ = '([^']+)'", read('inotify_simple.py'), re.M)

setup(
    name='inotify_simple',
    version=version.group(1),
    description='A simple wrapper around Linux inotify: its calls through ctypes',
    long_description=read('README.md'),
    long_description_content_type='text/markdown',
    license='BSD-2-Clause',
    url='https://pypi.org/project/inotify_simple/',
    py_modules=['inotify_simple', 'inotify_simple_tree', 'inotify_simple_cli'],
    # inotifywait's command line: python -m inotify_simple, or this script
    entry_points={'console_scripts': ['inotify_simple = inotify_simple_cli:main']},
    # PEP 561: the types, for a module that keeps Python 2.7's syntax
    packages=['inotify_simple-stubs', 'inotify_simple_tree-stubs'],
    package_data={'inotify_simple-stubs': ['__init__.pyi'],
                  'inotify_simple_tree-stubs': ['__init__.pyi']},
    install_requires=['enum34; python_version < "3.4"'],
    # what the tests run on: 3.2 to 3.5 are not among them
    python_requires='>=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*',
    classifiers=[
        'Development Status :: 5 - Production/Stable',
        'Intended Audience :: Developers',
        'Operating System :: POSIX :: Linux',
        'Programming Language :: Python',
        'Programming Language :: Python :: 2',
        'Programming Language :: Python :: 2.7',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.6',
        'Programming Language :: Python :: 3.7',
        'Programming Language :: Python :: 3.8',
        'Programming Language :: Python :: 3.9',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
        'Programming Language :: Python :: 3.14',
        'Programming Language :: Python :: 3.15',
        'Programming Language :: Python :: Implementation :: CPython',
        'Programming Language :: Python :: Implementation :: PyPy',
        'Topic :: System :: Filesystems',
    ],
)
