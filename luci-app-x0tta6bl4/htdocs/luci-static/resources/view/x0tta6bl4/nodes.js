'use strict';
'require view';
'require poll';
'require dom';
'require x0tta6bl4.api as api';

/*
 * Nodes: every node of the mesh document merged with what this node sees of it (peers), one row each:
 * role, health, channel state, TQ of the best path, certificate expiry, last telemetry. Click a column title to
 * sort (again to reverse); the filter matches any cell's text.
 */

var columns = [
	{ key: 'id', title: _('Node') },
	{ key: 'role', title: _('Role'), narrow: true },
	{ key: 'health', title: _('Health') },
	{ key: 'channel', title: _('Channel'), narrow: true },
	{ key: 'tq', title: _('Best TQ'), numeric: true },
	{ key: 'cert_left_s', title: _('Cert. expires'), numeric: true },
	{ key: 'last_telemetry_s', title: _('Last telemetry'), numeric: true, narrow: true },
	{ key: 'address', title: _('Address'), narrow: true }
];

function rows(data) {
	var peers = {};
	data.peers.forEach(function(p) { peers[p.id] = p; });
	return data.mesh.nodes.map(function(n) {
		var p = peers[n.id] || {}, self = n.id == data.status.node_id;
		var best = (n.links || []).reduce(function(m, l) { return Math.max(m, +l.tq || 0); }, 0);
		var health = (n.revoked || p.revoked) ? 'revoked' : self ? (data.status.state || 'running') : (p.state || (n.last_seen_s < 60 ? 'seen' : 'down'));
		return {
			id: n.id, role: n.role || p.role || '?', health: health, self: self,
			channel: self ? '-' : (p.channel || 'none'),
			tq: p.tq != null ? Math.max(+p.tq, best) : best,
			cert_left_s: api.secondsLeft(n.cert_expires_at), cert_expires_at: n.cert_expires_at,
			last_telemetry_s: self ? 0 : (p.last_telemetry_s != null ? +p.last_telemetry_s : (n.last_seen_s != null ? +n.last_seen_s : Infinity)),
			address: n.address || p.address || ''
		};
	});
}

function cell(row, key) {
	switch (key) {
	case 'id': return E('span', {}, [ E('strong', { 'style': 'white-space:nowrap' }, row.id), E('br'),
		E('small', { 'style': 'opacity:.75;white-space:nowrap' }, row.self ? _('%s, this node').format(row.role) : row.role) ]);
	case 'health': return api.badge(row.health, row.health);
	case 'tq': return row.tq > 0 ? api.badge(api.tqBand(row.tq).cls, String(row.tq)) : '-';
	case 'cert_left_s': return E('span', { 'class': row.cert_left_s < 3600 ? 'x0-cert-soon' : null, 'style': row.cert_left_s < 3600 ? 'color:#d42c2c;font-weight:bold' : null }, api.expiresIn(row.cert_expires_at));
	case 'last_telemetry_s': return isFinite(row.last_telemetry_s) ? _('%s ago').format(api.duration(row.last_telemetry_s)) : '-';
	default: return String(row[key]);
	}
}

function text(row) {
	return [ row.id, row.role, row.health, row.channel, row.address ].join(' ').toLowerCase();
}

return view.extend({
	sortKey: 'id',
	sortDesc: false,
	filter: '',
	data: null,

	fetch: function() {
		var errors = [];
		return Promise.all([
			api.tryCall(api.status(), {}, errors),
			api.tryCall(api.peers(), [], errors),
			api.tryCall(api.mesh(), { nodes: [], revocations: [] }, errors)
		]).then(function(r) { return { status: r[0], peers: r[1], mesh: r[2], errors: errors }; });
	},

	load: function() { return this.fetch(); },

	table: function() {
		var self = this, key = this.sortKey, desc = this.sortDesc, col = columns.filter(function(c) { return c.key == key; })[0];
		var list = rows(this.data).filter(function(r) { return !self.filter || text(r).indexOf(self.filter) >= 0; });
		list.sort(function(a, b) {
			var x = a[key], y = b[key], c = col.numeric ? (x - y) : String(x).localeCompare(String(y));
			return (desc ? -c : c) || a.id.localeCompare(b.id);
		});
		var head = E('tr', { 'class': 'tr table-titles' }, columns.map(function(c) {
			return E('th', {
				'class': 'th x0-sortable' + (c.narrow ? ' x0-hide-narrow' : ''), 'data-sort': c.key,
				'aria-sort': c.key == key ? (desc ? 'descending' : 'ascending') : 'none',
				'click': function() { self.sortDesc = (self.sortKey == c.key) ? !self.sortDesc : false; self.sortKey = c.key; self.redraw(); }
			}, c.title + (c.key == key ? (desc ? ' ▼' : ' ▲') : ''));
		}));
		var body = list.map(function(r) {
			return E('tr', { 'class': 'tr', 'data-node': r.id, 'data-health': r.health }, columns.map(function(c) {
				return E('td', { 'class': 'td' + (c.narrow ? ' x0-hide-narrow' : ''), 'data-title': c.title, 'data-col': c.key }, cell(r, c.key));
			}));
		});
		if (!body.length)
			body = [ E('tr', { 'class': 'tr placeholder' }, E('td', { 'class': 'td', 'colspan': columns.length }, E('em', {}, _('No node matches.')))) ];
		return E('div', {}, [ api.errorBanner(this.data.errors),
			E('p', { 'class': 'x0-count' }, _('%d of %d nodes').format(list.length, this.data.mesh.nodes.length)),
			E('div', { 'class': 'x0-scroll' }, E('table', { 'class': 'table x0-nodes' }, [ head ].concat(body))) ]);
	},

	redraw: function() {
		dom.content(this.box, this.table());
	},

	render: function(data) {
		var self = this;
		this.data = data;
		this.box = E('div', { 'id': 'x0-nodes-box' }, this.table());
		poll.add(function() {
			return self.fetch().then(function(d) { self.data = d; self.redraw(); });
		}, api.pollIntervalS);
		return E('div', {}, [ api.style(), E('h2', {}, _('Nodes')),
			E('div', { 'class': 'cbi-value' }, [
				E('input', { 'type': 'search', 'class': 'cbi-input-text x0-filter', 'placeholder': _('Filter: name, role, health, address'),
					'style': 'width:100%;max-width:24em', 'input': function(ev) { self.filter = ev.target.value.trim().toLowerCase(); self.redraw(); } })
			]),
			this.box ]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
