"""The README's example: docs/example.py prints exactly the published output."""
import io
import os
import re

from conftest import python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PUBLISHED = """\
Event(wd=1, mask=1073742080, cookie=0, name='foo')
    flags.CREATE
    flags.ISDIR
Event(wd=1, mask=256, cookie=0, name='test.txt')
    flags.CREATE
Event(wd=1, mask=2, cookie=0, name='test.txt')
    flags.MODIFY
Event(wd=1, mask=512, cookie=0, name='test.txt')
    flags.DELETE
Event(wd=1, mask=1073742336, cookie=0, name='foo')
    flags.DELETE
    flags.ISDIR
Event(wd=1, mask=1024, cookie=0, name='')
    flags.DELETE_SELF
Event(wd=1, mask=32768, cookie=0, name='')
    flags.IGNORED
"""


def test_the_example_prints_the_published_output():
    with io.open(os.path.join(ROOT, 'docs', 'example.py')) as f:
        code = f.read()
    assert python(code) == PUBLISHED


def test_the_readme_shows_the_published_output():
    with io.open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    blocks = re.findall(r'^```(\w*)\n(.*?)^```$', readme, re.M | re.S)
    assert ('', PUBLISHED) in blocks


def test_the_docs_show_the_published_output():
    with io.open(os.path.join(ROOT, 'docs', 'example.rst'), encoding='utf-8') as f:
        page = f.read()
    indented = ''.join('   ' + line + '\n' for line in PUBLISHED.splitlines())
    assert indented in page
