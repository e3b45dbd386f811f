import test from 'ava';
import type { Node } from '../../../api/index.js';
import {
  canRemoveMember,
  managerStatusChanges,
  nextMembershipStep,
  type RaftView,
} from '../../../manager/membership/plan.js';
import { mkNode } from '../../support/cluster-fixtures.js';

function manager(id: string, reachability: 'reachable' | 'unreachable' = 'reachable'): Node {
  return {
    ...mkNode(id, { role: 'manager' }),
    ManagerStatus: { Addr: `${id}:2377`, Reachability: reachability, Leader: false },
  };
}

const view = (o: Partial<RaftView>): RaftView => ({
  self: 'a',
  voters: ['a', 'b', 'c'],
  learners: [],
  reachable: new Set(['a', 'b', 'c']),
  joining: new Set(),
  ...o,
});

const byId = (...nodes: Node[]) => new Map(nodes.map((n) => [n.ID, n]));

test('canRemoveMember: removing a reachable member must leave a reachable quorum of the rest', (t) => {
  t.true(canRemoveMember(['a', 'b', 'c'], new Set(['a', 'b', 'c']), 'c'));
  t.true(canRemoveMember(['a', 'b', 'c'], new Set(['a', 'b']), 'c'), 'removing the dead one');
  t.false(canRemoveMember(['a', 'b', 'c'], new Set(['a', 'c']), 'c'), 'would leave a and dead b');
  t.true(canRemoveMember(['a', 'b', 'c', 'd'], new Set(['a', 'b', 'c']), 'd'));
  t.false(canRemoveMember(['a', 'b', 'c', 'd', 'e'], new Set(['a', 'b']), 'e'));
});

test('nextMembershipStep: nothing to do while members are managers', (t) => {
  t.deepEqual(nextMembershipStep(view({}), byId(manager('a'), manager('b'), manager('c'))), { kind: 'none' });
});

test('nextMembershipStep: a demoted or removed member leaves the group', (t) => {
  const demoted = { ...manager('c'), Spec: { ...manager('c').Spec, Role: 'worker' as const } };
  t.deepEqual(nextMembershipStep(view({}), byId(manager('a'), manager('b'), demoted)), {
    kind: 'remove',
    id: 'c',
    why: 'node demoted',
  });
  t.deepEqual(
    nextMembershipStep(view({ reachable: new Set(['a', 'b']) }), byId(manager('a'), manager('b'))),
    {
      kind: 'remove',
      id: 'c',
      why: 'node removed',
    },
  );
});

test('nextMembershipStep: a removal that would lose quorum waits; a learner can always go', (t) => {
  const nodes = byId(manager('a'), manager('c'));
  t.deepEqual(nextMembershipStep(view({ reachable: new Set(['a', 'b']) }), nodes), { kind: 'none' });
  t.deepEqual(
    nextMembershipStep(
      view({ voters: ['a', 'b'], learners: ['c'], reachable: new Set(['a', 'b']) }),
      byId(manager('a'), manager('b')),
    ),
    { kind: 'remove', id: 'c', why: 'node removed' },
  );
});

test('nextMembershipStep: a live demoted voter waits while a manager is still joining as a learner', (t) => {
  const demoted = { ...manager('c'), Spec: { ...manager('c').Spec, Role: 'worker' as const } };
  const nodes = byId(manager('a'), manager('b'), demoted, manager('d'));
  const all = new Set(['a', 'b', 'c', 'd']);
  const catchingUp = view({ learners: ['d'], reachable: all, joining: new Set(['d']) });
  t.deepEqual(nextMembershipStep(catchingUp, nodes), { kind: 'none' }, 'd is promoted first');
  t.deepEqual(
    nextMembershipStep({ ...catchingUp, joining: new Set() }, nodes),
    { kind: 'remove', id: 'c', why: 'node demoted' },
    'a learner no longer expected to join does not hold a demotion up',
  );
  t.deepEqual(
    nextMembershipStep(
      { ...catchingUp, reachable: new Set(['a', 'b', 'd']) },
      byId(manager('a'), manager('b'), manager('d')),
    ),
    { kind: 'remove', id: 'c', why: 'node removed' },
    'a dead voter can still go',
  );
  t.deepEqual(
    nextMembershipStep(view({ voters: ['a', 'b', 'c', 'd'], reachable: all }), nodes),
    { kind: 'remove', id: 'c', why: 'node demoted' },
    'once d votes',
  );
});

test('nextMembershipStep: a demoted leader hands leadership over instead of removing itself', (t) => {
  const self = { ...manager('a'), Spec: { ...manager('a').Spec, Role: 'worker' as const } };
  t.deepEqual(nextMembershipStep(view({}), byId(self, manager('b'), manager('c'))), {
    kind: 'transfer-leadership',
    why: 'node demoted',
  });
  t.deepEqual(
    nextMembershipStep(view({ voters: ['a'], reachable: new Set(['a']) }), byId(self)),
    { kind: 'none' },
    'no one to hand over to',
  );
});

test('managerStatusChanges: reachability follows the leader, demoted non-members lose ManagerStatus', (t) => {
  const demoted = { ...manager('d'), Spec: { ...manager('d').Spec, Role: 'worker' as const } };
  const changes = managerStatusChanges(view({ reachable: new Set(['a', 'b']) }), [
    manager('a'),
    manager('b', 'unreachable'),
    manager('c'),
    demoted,
    manager('e'),
    mkNode('w'),
  ]);
  const byNode = Object.fromEntries(changes.map((n) => [n.ID, n.ManagerStatus?.Reachability ?? 'none']));
  t.deepEqual(byNode, { a: 'reachable', b: 'reachable', c: 'unreachable', d: 'none', e: 'unreachable' });
  t.true(changes.find((n) => n.ID === 'a')!.ManagerStatus!.Leader, 'the leader marks itself');
});

test('managerStatusChanges: a dead old leader still flagged Leader is cleared and made unreachable', (t) => {
  const old = {
    ...manager('b'),
    ManagerStatus: { Addr: 'b:2377', Reachability: 'reachable' as const, Leader: true },
  };
  const changes = managerStatusChanges(view({ reachable: new Set(['a', 'c']) }), [
    { ...manager('a'), ManagerStatus: { Addr: 'a:2377', Reachability: 'reachable', Leader: true } },
    old,
    manager('c'),
  ]);
  t.deepEqual(
    changes.map((n) => [n.ID, n.ManagerStatus]),
    [['b', { Addr: 'b:2377', Reachability: 'unreachable', Leader: false }]],
  );
});
