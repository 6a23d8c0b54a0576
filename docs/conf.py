import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import inotify_simple  # noqa: E402

project = 'inotify_simple'
copyright = '2026, the inotify_simple authors'
version = release = inotify_simple.__version__

extensions = ['sphinx.ext.autodoc', 'sphinx.ext.napoleon']
autodoc_member_order = 'bysource'
autoclass_content = 'init'
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# the tables are included by performance.rst and cli.rst, not pages of their own
exclude_patterns = ['_build', 'performance-table.rst', 'cli-performance-table.rst',
                    'tree-performance-table.rst', 'tree-renames-table.rst',
                    'recipes']
html_theme = 'alabaster'
html_static_path = ['_static']
