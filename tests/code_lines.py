"""How many lines of code a reader of each module reads, and its largest class:
comments, docstrings and blank lines are not counted.

    python tests/code_lines.py [MODULE.py ...]    (default: the three modules)
"""
from __future__ import print_function

import ast
import io
import os
import sys
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ['inotify_simple.py', 'inotify_simple_tree.py', 'inotify_simple_cli.py']
SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
           tokenize.DEDENT, tokenize.ENDMARKER)


def docstring_lines(tree):
    """The lines of every docstring in ``tree``."""
    lines = set()
    for node in ast.walk(tree):
        body = getattr(node, 'body', None)
        if not isinstance(body, list) or not body:
            continue
        first = body[0]
        if isinstance(first, ast.Expr) and isinstance(
                getattr(first.value, 'value', getattr(first.value, 's', None)), str):
            end = getattr(first, 'end_lineno', None) or first.lineno  # 3.8+
            lines.update(range(first.lineno, end + 1))
    return lines


def code_lines(source):
    """The numbers of the lines of ``source`` that hold code."""
    docs = docstring_lines(ast.parse(source))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token[0] not in SKIPPED:
            lines.update(line for line in range(token[2][0], token[3][0] + 1)
                         if line not in docs)
    return lines


def largest_class(source):
    """(name, code lines) of the class of ``source`` with the most code lines."""
    lines = code_lines(source)
    classes = [(len([n for n in lines if node.lineno <= n <= node.end_lineno]),
                node.name) for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.ClassDef)]
    count, name = max(classes or [(0, None)])
    return name, count


def count(path):
    with io.open(path, encoding='utf-8') as f:
        source = f.read()
    return len(code_lines(source)), largest_class(source)


def main(paths):
    for path in paths or [os.path.join(ROOT, module) for module in MODULES]:
        lines, (name, size) = count(path)
        print('%-26s %4d code lines; largest class %s, %d' % (
            os.path.basename(path), lines, name, size))


if __name__ == '__main__':
    main(sys.argv[1:])
