'use strict';
'require view';
'require poll';
'require dom';
'require x0tta6bl4.api as api';

/*
 * Overview: the agent's state and a live SVG topology of the mesh. Nodes sit on a circle (anchors first),
 * links are coloured by TQ, anchors are squares, the Raft leader has a gold ring, revoked nodes are grey and
 * crossed out, nodes that are down have a red dashed outline. The SVG scales to the page (375 px and up).
 */

var svgNS = 'http://www.w3.org/2000/svg';
var size = 400, centre = 200, radius = 140, nodeRadius = 19;

function svg(tag, attrs, children) {
	var el = document.createElementNS(svgNS, tag);
	for (var k in attrs)
		if (attrs[k] != null)
			el.setAttribute(k, attrs[k]);
	(children || []).forEach(function(c) {
		el.appendChild(typeof c == 'string' ? document.createTextNode(c) : c);
	});
	return el;
}

/* Per node: role, state (up|seen|down|revoked|self), leader flag. */
function nodeStates(data) {
	var peers = {}, out = [];
	data.peers.forEach(function(p) { peers[p.id] = p; });
	data.mesh.nodes.forEach(function(n) {
		var p = peers[n.id], state;
		if (n.revoked || (p && p.revoked)) state = 'revoked';
		else if (n.id == data.status.node_id) state = 'self';
		else state = p ? p.state : (n.last_seen_s != null && n.last_seen_s < 60 ? 'seen' : 'down');
		out.push({ id: n.id, role: n.role, state: state, leader: n.id == data.raft.leader, links: n.links || [] });
	});
	out.sort(function(a, b) {
		return (a.role == 'anchor' ? 0 : 1) - (b.role == 'anchor' ? 0 : 1) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
	});
	return out;
}

function topology(nodes) {
	var pos = {}, g = [], links = {}, seen = {};
	/* One node sits in the middle; more go round a circle, the first at the top. */
	nodes.forEach(function(n, i) {
		var a = 2 * Math.PI * i / nodes.length - Math.PI / 2, r = nodes.length > 1 ? radius : 0;
		pos[n.id] = { x: centre + r * Math.cos(a), y: centre + r * Math.sin(a) };
	});
	/* Each link once, with the lower TQ of its two ends (the worse direction is what a path gets). */
	nodes.forEach(function(n) {
		n.links.forEach(function(l) {
			if (!pos[l.to]) return;
			var key = n.id < l.to ? n.id + '|' + l.to : l.to + '|' + n.id;
			links[key] = links[key] == null ? +l.tq : Math.min(links[key], +l.tq);
		});
	});
	Object.keys(links).sort().forEach(function(key) {
		var ends = key.split('|'), a = pos[ends[0]], b = pos[ends[1]], tq = links[key], band = api.tqBand(tq);
		g.push(svg('line', {
			'x1': a.x, 'y1': a.y, 'x2': b.x, 'y2': b.y, 'stroke': band.colour,
			'stroke-width': 1.5 + 3 * tq / 255, 'stroke-linecap': 'round',
			'class': 'x0-link', 'data-link': key, 'data-tq': tq, 'data-band': band.cls
		}, [ svg('title', {}, [ '%s ↔ %s: TQ %d (%s)'.format(ends[0], ends[1], tq, band.label) ]) ]));
	});
	nodes.forEach(function(n) {
		var p = pos[n.id], r = nodeRadius, shape, parts = [];
		var fill = { self: '#1f5fa6', up: '#3c7dc4', seen: '#7d9cc4', down: '#fff', revoked: '#9a9a9a' }[n.state] || '#ccc';
		var stroke = n.state == 'down' ? '#d42c2c' : n.state == 'revoked' ? '#555' : '#1d3f66';
		var dash = n.state == 'down' || n.state == 'revoked' ? '4 3' : null;
		if (n.leader)
			parts.push(svg('circle', { 'cx': p.x, 'cy': p.y, 'r': r + 7, 'fill': 'none', 'stroke': '#d4a017', 'stroke-width': 3, 'class': 'x0-leader-ring' }));
		shape = n.role == 'anchor'
			? svg('rect', { 'x': p.x - r, 'y': p.y - r, 'width': 2 * r, 'height': 2 * r, 'rx': 4, 'fill': fill, 'stroke': stroke, 'stroke-width': 2.5, 'stroke-dasharray': dash })
			: svg('circle', { 'cx': p.x, 'cy': p.y, 'r': r, 'fill': fill, 'stroke': stroke, 'stroke-width': 2.5, 'stroke-dasharray': dash });
		parts.push(shape);
		if (n.state == 'revoked')
			parts.push(svg('path', { 'd': 'M%f %fL%f %fM%f %fL%f %f'.format(p.x - 10, p.y - 10, p.x + 10, p.y + 10, p.x + 10, p.y - 10, p.x - 10, p.y + 10), 'stroke': '#fff', 'stroke-width': 3 }));
		else
			parts.push(svg('text', { 'x': p.x, 'y': p.y + 5, 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold', 'fill': n.state == 'down' ? '#d42c2c' : '#fff' },
				[ n.role == 'anchor' ? 'A' : 'N' ]));
		var below = p.y > centre + 10;
		parts.push(svg('text', { 'x': p.x, 'y': below ? p.y + r + 19 : p.y - r - 10, 'text-anchor': 'middle', 'font-size': 17, 'fill': 'currentColor' },
			[ n.id + (n.leader ? ' ★' : '') ]));
		parts.push(svg('title', {}, [ '%s: %s, %s%s'.format(n.id, n.role, n.state, n.leader ? ', Raft leader' : '') ]));
		g.push(svg('g', { 'class': 'x0-node', 'data-node': n.id, 'data-state': n.state, 'data-role': n.role, 'data-leader': n.leader ? '1' : '0' }, parts));
	});
	return svg('svg', { 'viewBox': '-45 10 %d %d'.format(size + 90, size - 10), 'class': 'x0-topology', 'role': 'img', 'aria-label': _('Mesh topology') }, g);
}

function legend() {
	var items = api.tqBands.map(function(b, i) {
		var range = i == api.tqBands.length - 1 ? 'TQ < %d'.format(api.tqBands[i - 1].min) : 'TQ ≥ %d'.format(b.min);
		return E('span', {}, [ E('span', { 'class': 'x0-badge x0-' + b.cls }, range), ' ', b.label ]);
	});
	items.push(E('span', {}, [ '■ ', _('anchor') ]), E('span', {}, [ '● ', _('node') ]),
		E('span', {}, [ E('span', { 'style': 'color:#d4a017' }, '◯'), ' ', _('Raft leader') ]),
		E('span', {}, [ api.badge('down', _('down')), ' ', api.badge('revoked', _('revoked')) ]));
	return E('div', { 'class': 'x0-legend' }, items);
}

function componentsTable(components) {
	var names = Object.keys(components || {}).sort();
	return E('table', { 'class': 'table x0-components' }, [
		E('tr', { 'class': 'tr table-titles' }, [ E('th', { 'class': 'th' }, _('Component')), E('th', { 'class': 'th' }, _('State')),
			E('th', { 'class': 'th' }, _('Reason')), E('th', { 'class': 'th' }, _('Restarts')) ]) ].concat(names.map(function(name) {
		var c = components[name] || {};
		return E('tr', { 'class': 'tr', 'data-component': name }, [ E('td', { 'class': 'td' }, name), E('td', { 'class': 'td' }, api.badge(c.state || 'disabled', c.state || '?')),
			E('td', { 'class': 'td' }, c.reason || ''), E('td', { 'class': 'td' }, String(c.restarts != null ? c.restarts : '')) ]);
	})));
}

function render(data) {
	var s = data.status, nodes = nodeStates(data);
	var down = nodes.filter(function(n) { return n.state == 'down'; }).length;
	var revoked = nodes.filter(function(n) { return n.state == 'revoked'; }).length;
	return E('div', { 'class': 'x0-overview' }, [
		api.errorBanner(data.errors),
		E('div', { 'class': 'x0-cards' }, [
			api.card(_('Agent'), s.state ? api.badge(s.state, s.state) : '-', 'state'),
			api.card(_('This node'), '%s (%s)'.format(s.node_id || '?', s.role || '?'), 'node'),
			api.card(_('Peers up'), '%d / %d'.format(s.peers_up || 0, s.peers_total || 0), 'peers'),
			api.card(_('Raft leader'), '%s (term %s)'.format(data.raft.leader || '-', data.raft.term != null ? data.raft.term : '-'), 'leader'),
			api.card(_('Down / revoked'), '%d / %d'.format(down, revoked), 'down'),
			api.card(_('Uptime'), api.duration(s.uptime_s), 'uptime')
		]),
		E('h3', {}, _('Topology')),
		nodes.length ? topology(nodes) : E('p', { 'class': 'x0-empty' }, _('The agent knows no mesh nodes yet.')),
		legend(),
		E('h3', {}, _('Components')),
		E('div', { 'class': 'x0-scroll' }, componentsTable(s.components)),
		E('p', { 'class': 'x0-version' }, _('Agent version %s, last mesh convergence %s ago').format(data.version.version || s.version || '?', api.duration(data.mesh.last_convergence_s)))
	]);
}

function fetchAll() {
	var errors = [];
	return Promise.all([
		api.tryCall(api.status(), {}, errors),
		api.tryCall(api.peers(), [], errors),
		api.tryCall(api.raft(), {}, errors),
		api.tryCall(api.mesh(), { nodes: [], revocations: [] }, errors),
		api.tryCall(api.version(), {}, errors)
	]).then(function(r) {
		return { status: r[0], peers: r[1], raft: r[2], mesh: r[3], version: r[4], errors: errors };
	});
}

return view.extend({
	load: fetchAll,

	render: function(data) {
		var box = E('div', { 'id': 'x0-overview-box' }, render(data));
		poll.add(function() {
			return fetchAll().then(function(d) { dom.content(box, render(d)); });
		}, api.pollIntervalS);
		return E('div', {}, [ api.style(), E('h2', {}, _('x0tta6bl4 mesh')), box ]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
