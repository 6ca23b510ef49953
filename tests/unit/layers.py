#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Check pingd's layering (docs/architecture.md): a file under userspace/<layer>/ includes only
# headers of its own layer or of lower ones (the order of USERSPACE_LAYERS in the Makefile), and
# no two modules (foo.c with foo.h; a type header foo-t.h counts on its own, as it may only
# include other type headers) include each other, directly or in a circle.
# Prints each violation and exits 1 if there is any.
import os
import re
import sys

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
os.chdir(top)
layers = re.search(r'^USERSPACE_LAYERS\s*:=\s*(.*)$', open('Makefile').read(), re.M).group(1).split()
rank = {name: i for i, name in enumerate(layers)}
inc_re = re.compile(r'^#include "userspace/([^/]+)/([^"]+)"', re.M)


def module(layer, name):
    base = re.sub(r'\.[ch]$', '', name)
    return layer + '/' + base


errors = []
graph = {}
for layer in layers:
    for name in sorted(os.listdir('userspace/' + layer)):
        if not name.endswith(('.c', '.h')):
            continue
        path = 'userspace/%s/%s' % (layer, name)
        me = module(layer, name)
        graph.setdefault(me, set())
        for dep_layer, dep_name in inc_re.findall(open(path).read()):
            if dep_layer not in rank:
                continue  # ctrl and include/ sit outside pingd's layers
            if rank[dep_layer] > rank[layer]:
                errors.append('%s includes the higher layer %s/%s' % (path, dep_layer, dep_name))
            dep = module(dep_layer, dep_name)
            if dep != me:
                graph[me].add(dep)

# Circles between modules: a depth-first search that reports each back edge's cycle once.
state = {}
stack = []


def visit(m):
    state[m] = 1
    stack.append(m)
    for d in sorted(graph.get(m, ())):
        if state.get(d) == 1:
            errors.append('circle: ' + ' -> '.join(stack[stack.index(d):] + [d]))
        elif d not in state:
            visit(d)
    stack.pop()
    state[m] = 2


for m in sorted(graph):
    if m not in state:
        visit(m)

for e in errors:
    print('layers: ' + e)
sys.exit(1 if errors else 0)
