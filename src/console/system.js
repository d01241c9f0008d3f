// System: the nodes sharing this data directory, the event store, each read model with its lag
// (or the error it stopped at), the webhook deliverer, and the version.
import { get } from './api.js';
import { busy, clear, h, table, time } from './dom.js';

export const renderSystem = async (root) => {
  const s = await get('system');
  const facts = (pairs) => h('dl', { class: 'facts' }, pairs.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
  const badge = (ok, yes, no) => h('span', { class: `badge ${ok ? 'good' : 'bad'}`, text: ok ? yes : no });
  clear(
    root,
    h('h1', {}, 'System ', h('button', { type: 'button', class: 'ghost small', id: 'systemRefresh', text: 'Refresh', onclick: (e) => void busy(e.currentTarget, () => renderSystem(root)) })),
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'card', 'aria-labelledby': 'sysVersion' }, h('h2', { id: 'sysVersion', text: 'This node' }), facts([['Version', s.version], ['Node', s.nodeId], ['Started', time(s.startedAt)]])),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'sysStore', id: 'store' },
        h('h2', { id: 'sysStore' }, 'Event store ', badge(s.store.reachable, 'reachable', 'unreachable')),
        facts([['Kind', s.store.kind], ['Where', s.store.location], ['Head position', String(s.store.headPosition)], ...(s.store.error ? [['Error', s.store.error]] : [])]),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'sysHooks', id: 'deliverer' },
        h('h2', { id: 'sysHooks', text: 'Webhook deliverer' }),
        facts([
          ['Mode', s.webhooks.mode === 'lease' ? 'one node delivers (lease)' : 'every node (persistent subscription)'],
          ['Delivering now', s.webhooks.mode === 'lease' ? s.webhooks.holder || 'nobody' : 'every node'],
          ['This node delivers', s.webhooks.thisNodeDelivers ? 'yes' : 'no'],
          ['Deliveries', `${s.webhooks.delivered} delivered · ${s.webhooks.pending} pending · ${s.webhooks.dead} dead`],
        ]),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sysModels', id: 'readModels' },
      h('h2', { id: 'sysModels', text: 'Read models' }),
      table(
        [
          { label: 'Read model', cell: (m) => m.name },
          { label: 'State', cell: (m) => badge(m.status === 'ok', 'ok', 'stopped') },
          { label: `Lag (${s.lagUnit})`, cell: (m) => String(m.lag) },
          { label: 'Error', cell: (m) => (m.error ? `at position ${m.failedAt}: ${m.error}` : '—') },
        ],
        s.readModels,
        { label: 'Read models', rowProps: (m) => ({ dataset: { readModel: m.name } }) },
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sysNodes', id: 'nodes' },
      h('h2', { id: 'sysNodes', text: 'Nodes on this data directory' }),
      table(
        [
          { label: 'Node', cell: (n) => h('span', {}, n.nodeId, n.thisNode ? h('span', { class: 'badge good', text: 'this node' }) : '') },
          { label: 'Host', cell: (n) => n.host },
          { label: 'PID', cell: (n) => String(n.pid) },
          { label: 'Version', cell: (n) => n.version },
          { label: 'Started', cell: (n) => time(n.startedAt) },
          { label: 'Last seen', cell: (n) => time(n.seenAt) },
        ],
        s.nodes,
        { label: 'Nodes' },
      ),
    ),
  );
};
