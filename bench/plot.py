"""Turn bench/bench.py's JSON results into the docs' table and plot.

    python bench/plot.py [--out DIR] RESULTS.json...

writes DIR/performance-table.rst and DIR/_static/performance.png (DIR: docs/).
"""
import argparse
import json
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# what the plot shows, per interpreter: the cases that cost per event
PLOTTED = ('parse_events, mixed names', 'drain 10000 CREATE events, names of one',
           'drain 10000 CREATE events, names of mixed')


def rst_table(rows):
    """A reStructuredText simple table of ``rows`` (the first is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rule = '  '.join('=' * width for width in widths)
    lines = [rule] + ['  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                      for row in rows]
    lines.insert(2, rule)
    return '\n'.join(lines + [rule])


# the costs per call (and of a small burst) that the summary sets beside upstream's
PER_CALL = ('read(timeout=0), nothing queued (per call)',
            'add_watch + rm_watch (per call)',
            'drain 1000 CREATE events, names of one length')


def in_the_docs(label):
    """Whether the docs show ``label`` (not an earlier version, bench.py --before)."""
    return label != 'ours, before'


def summary(results):
    """One table: each per-call cost of ours beside upstream's, per interpreter."""
    body = [['interpreter', 'per call (the burst: per event)', 'ours ns',
             'upstream ns', 'ours / upstream']]
    for result in results:
        for case in PER_CALL:
            rows = result['cases'].get(case, {})
            upstream = [label for label in rows if label.startswith('inotify_simple')]
            if 'ours' not in rows or not upstream:
                continue
            body.append([result['interpreter'], case.split(' (')[0],
                         '%.0f' % rows['ours']['ns'],
                         '%.0f' % rows[upstream[0]]['ns'],
                         'x%.2f' % (1 / rows[upstream[0]]['ratio'])])
    if len(body) == 1:
        return ''
    return '\n'.join(['Per call, beside upstream', '-------------------------', '',
                      'The median of the ratios, measured in one process.', '',
                      rst_table(body), '', ''])


def table(results):
    """One section per interpreter; in each, one table per case."""
    out = [summary(results)]
    for result in results:
        title = '%s, %s' % (result['interpreter'], result['date'])
        out += [title, '-' * len(title), '', 'On %s.' % result['machine'], '']
        for case in sorted(result['cases']):
            rows = result['cases'][case]
            unit = 'bytes' if 'bytes' in rows['ours'] else 'ns'
            body = [['library', unit, 'vs ours']]
            for label in sorted(filter(in_the_docs, rows), key=lambda l: rows[l][unit]):
                body.append([label, '%.0f' % rows[label][unit],
                             'x%.2f' % rows[label]['ratio']])
            out += ['**%s**' % case, '', rst_table(body), '']
    return '\n'.join(out)


def plot(results, path):
    shown = [r for r in results if r['interpreter'].startswith('CPython 3')]
    figure, axes = plt.subplots(len(shown), len(PLOTTED), squeeze=False,
                                figsize=(5.5 * len(PLOTTED), 2.7 * len(shown)))
    for row, result in enumerate(shown):
        for column, prefix in enumerate(PLOTTED):
            axis = axes[row][column]
            cases = [case for case in result['cases'] if case.startswith(prefix)]
            if not cases:
                axis.set_axis_off()
                continue
            rows = result['cases'][cases[0]]
            labels = sorted(filter(in_the_docs, rows), key=lambda label: -rows[label]['ns'])
            axis.barh(labels, [rows[label]['ns'] for label in labels],
                      color=['tab:orange' if label == 'ours' else 'tab:blue'
                             for label in labels])
            axis.set_title('%s\n%s' % (result['interpreter'], cases[0]), fontsize=9)
            axis.set_xlabel('ns per event (less is better)', fontsize=8)
            axis.tick_params(labelsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_trees(results, path):
    """bench/tree.py's ratios to inotifywait: setup time and memory, per program,
    one panel per interpreter and case."""
    cases = ('every event', '-e create')
    figure, axes = plt.subplots(len(results), len(cases), squeeze=False,
                                figsize=(5.5 * len(cases), 2.7 * len(results)))
    for row, result in enumerate(results):
        for column, case in enumerate(cases):
            axis = axes[row][column]
            rows = result['cases'][case]
            labels = [label for label in ('ours', 'engine', 'recipe', 'watchdog')
                      if label in rows and 'setup_ratio' in rows[label]]
            places = range(len(labels))
            axis.barh([p + 0.2 for p in places],
                      [rows[label]['setup_ratio'] for label in labels], height=0.4,
                      color='tab:orange', label='setup time')
            axis.barh([p - 0.2 for p in places],
                      [rows[label].get('rss_ratio', 0) for label in labels],
                      height=0.4, color='tab:blue', label='memory (RSS)')
            axis.set_yticks(list(places))
            axis.set_yticklabels(labels)
            axis.axvline(1.0, color='black', linewidth=0.8)
            axis.set_title('%s, %d directories, %s' % (
                result['interpreter'], result['directories'], case), fontsize=9)
            axis.set_xlabel('x inotifywait (less is better)', fontsize=8)
            axis.tick_params(labelsize=8)
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=os.path.join(ROOT, 'docs'))
    parser.add_argument('--trees', action='store_true', help="the results are "
                        "bench/tree.py's: plot them into _static/trees.png")
    parser.add_argument('results', nargs='+')
    args = parser.parse_args()
    results = []
    for name in args.results:
        with open(name) as f:
            results.append(json.load(f))
    if args.trees:
        plot_trees(results, os.path.join(args.out, '_static', 'trees.png'))
        return
    order = ['CPython 3.11', 'CPython 3.13', 'CPython 2', 'PyPy']
    results.sort(key=lambda r: [r['interpreter'].startswith(o) for o in order].index(
        True) if any(r['interpreter'].startswith(o) for o in order) else len(order))
    if not os.path.isdir(os.path.join(args.out, '_static')):
        os.makedirs(os.path.join(args.out, '_static'))
    with open(os.path.join(args.out, 'performance-table.rst'), 'w') as f:
        f.write(table(results))
    plot(results, os.path.join(args.out, '_static', 'performance.png'))


if __name__ == '__main__':
    main()
