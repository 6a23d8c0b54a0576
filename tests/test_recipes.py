"""Every recipe in docs/recipes runs against the real kernel and prints what it should."""
import os
import sys

import pytest

from conftest import MODULE_DIR
from conftest import python

RECIPES = os.path.join(MODULE_DIR, 'docs', 'recipes')

# recipe: (the oldest Python it is written for, what it prints)
EXPECTED = {
    'select_loop': ((3, 4), "['one']\n['two']\n[]\n"),
    'asyncio_events': ((3, 7), 'a\nb\nc\n'),
    'worker_thread': ((2, 7), 'made\nworker stopped: True\n'),
    'trio_events': ((3, 8), "['made']\n"),
    'own_reads': ((2, 7), "[Event(wd=1, mask=256, cookie=0, name='made')]\n"
                          'then nothing: errno 11\n'),
    'overflow': ((2, 7), 'True\n'),
    'recursive': ((2, 7), 'CREATE a\nCREATE a/b\nCREATE a/b/f\nMOVED_FROM a\n'
                          'MOVED_TO renamed\nCREATE renamed/b/g\n'
                          'MOVED_FROM renamed/b/g\n'),
}


def test_every_recipe_is_tested():
    assert sorted(name[:-3] for name in os.listdir(RECIPES)
                  if name.endswith('.py')) == sorted(EXPECTED)


@pytest.mark.parametrize('recipe', sorted(EXPECTED))
def test_recipe_prints_what_it_should(recipe):
    oldest, expected = EXPECTED[recipe]
    if sys.version_info < oldest:
        pytest.skip('written for Python %d.%d and later' % oldest)
    if recipe == 'trio_events':
        pytest.importorskip('trio')
    with open(os.path.join(RECIPES, recipe + '.py')) as f:
        code = f.read()
    assert python(code) == expected
