'use strict';
'require view';
'require poll';
'require dom';
'require x0tta6bl4.api as api';

/*
 * Self-healing: the agent's events grouped into incidents by trace id, each a timeline of the MAPE-K loop
 * (observation, decision, action, outcome) with the time to repair; events without a trace id follow below.
 * The phase of an event is fields.phase when the agent sets it, else read from the event name.
 */

var phases = [
	{ key: 'observation', match: /observ|monitor|detect/, label: _('Observation') },
	{ key: 'decision', match: /decid|analy|plan/, label: _('Decision') },
	{ key: 'action', match: /act|execut|apply/, label: _('Action') },
	{ key: 'outcome', match: /outcome|heal|resolv|fail/, label: _('Outcome') }
];

function phaseOf(e) {
	var name = String((e.fields && e.fields.phase) || e.event || '').toLowerCase();
	for (var i = phases.length - 1; i >= 0; i--)
		if (name == phases[i].key) return phases[i];
	for (var j = 0; j < phases.length; j++)
		if (phases[j].match.test(name)) return phases[j];
	return null;
}

function healed(e) {
	if (e.fields && e.fields.healed != null) return !!e.fields.healed;
	return /heal|resolv|ok/.test(String(e.reason || '').toLowerCase()) && e.level != 'error';
}

function incidents(events) {
	var byTrace = {}, order = [];
	events.forEach(function(e) {
		if (!e.trace_id) return;
		if (!byTrace[e.trace_id]) { byTrace[e.trace_id] = []; order.push(e.trace_id); }
		byTrace[e.trace_id].push(e);
	});
	return order.map(function(id) {
		var list = byTrace[id].slice().sort(function(a, b) { return a.time_ms - b.time_ms; });
		var last = list[list.length - 1], outcome = list.filter(function(e) { var p = phaseOf(e); return p && p.key == 'outcome'; }).pop();
		return {
			trace_id: id, events: list, start_ms: list[0].time_ms, outcome: outcome,
			state: outcome ? (healed(outcome) ? 'healed' : 'failed') : 'open',
			repair_ms: outcome ? outcome.time_ms - list[0].time_ms : null,
			last_ms: last.time_ms
		};
	}).sort(function(a, b) { return b.start_ms - a.start_ms; });
}

function fieldsText(f) {
	return Object.keys(f || {}).filter(function(k) { return k != 'phase'; }).slice(0, 12).map(function(k) {
		return k + '=' + (typeof f[k] == 'object' ? JSON.stringify(f[k]) : f[k]);
	}).join(' ');
}

function incidentBox(inc) {
	var cls = inc.state == 'healed' ? 'up' : inc.state == 'failed' ? 'down' : 'degraded';
	var label = { healed: _('healed'), failed: _('not healed'), open: _('in progress') }[inc.state];
	return E('div', { 'class': 'x0-incident', 'data-trace': inc.trace_id, 'data-state': inc.state }, [
		E('div', { 'style': 'display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center' }, [
			api.badge(cls, label),
			E('span', {}, api.time(inc.start_ms)),
			inc.repair_ms != null ? E('span', { 'class': 'x0-ttr' }, _('time to repair: %s').format(inc.repair_ms < 60000 ? '%.1f s'.format(inc.repair_ms / 1000) : api.duration(inc.repair_ms / 1000))) : '',
			E('span', {}, [ _('trace'), ' ', E('code', { 'class': 'x0-mono x0-trace' }, inc.trace_id) ])
		]),
		E('ol', { 'class': 'x0-timeline' }, inc.events.map(function(e) {
			var p = phaseOf(e);
			return E('li', { 'data-phase': p ? p.key : 'other' }, [
				E('strong', {}, p ? p.label : e.event), ' ',
				E('span', { 'style': 'opacity:.7' }, '+%.1f s'.format((e.time_ms - inc.start_ms) / 1000)), ' · ',
				e.component + '/' + e.event, e.reason ? ' (' + e.reason + ')' : '', ' ',
				E('span', { 'class': 'x0-mono', 'style': 'opacity:.8' }, fieldsText(e.fields))
			]);
		}))
	]);
}

function render(data) {
	/* Newest first, whatever order the agent sends. */
	var list = incidents(data.events), other = data.events.filter(function(e) { return !e.trace_id; })
		.sort(function(a, b) { return (+b.time_ms || 0) - (+a.time_ms || 0); });
	var healedCount = list.filter(function(i) { return i.state == 'healed'; }).length;
	return E('div', {}, [
		api.errorBanner(data.errors),
		E('div', { 'class': 'x0-cards' }, [
			api.card(_('Incidents'), String(list.length), 'incidents'),
			api.card(_('Healed'), String(healedCount), 'healed'),
			api.card(_('Not healed / open'), String(list.length - healedCount), 'open')
		]),
		E('h3', {}, _('Incidents')),
		list.length ? E('div', {}, list.map(incidentBox)) : E('p', { 'class': 'x0-empty' }, _('No incidents: the agent has not had to heal anything.')),
		E('h3', {}, _('Other events')),
		E('div', { 'class': 'x0-scroll' }, E('table', { 'class': 'table x0-events' }, [
			E('tr', { 'class': 'tr table-titles' }, [ E('th', { 'class': 'th' }, _('Time')), E('th', { 'class': 'th' }, _('Level')),
				E('th', { 'class': 'th' }, _('Event')), E('th', { 'class': 'th' }, _('Details')) ])
		].concat(other.map(function(e) {
			return E('tr', { 'class': 'tr', 'data-event': e.component + '/' + e.event }, [
				E('td', { 'class': 'td' }, api.time(e.time_ms)),
				E('td', { 'class': 'td' }, api.badge({ error: 'down', warn: 'degraded', info: 'seen', debug: 'disabled' }[e.level] || 'disabled', e.level || '?')),
				E('td', { 'class': 'td' }, e.component + '/' + e.event + (e.reason ? ' (' + e.reason + ')' : '')),
				E('td', { 'class': 'td x0-mono' }, fieldsText(e.fields))
			]);
		}))))
	]);
}

function fetchAll() {
	var errors = [];
	return api.tryCall(api.events(api.eventsLimit), [], errors).then(function(ev) {
		return { events: ev.filter(function(e) { return e && typeof e == 'object'; }), errors: errors };
	});
}

return view.extend({
	load: fetchAll,

	render: function(data) {
		var box = E('div', { 'id': 'x0-healing-box' }, render(data));
		poll.add(function() { return fetchAll().then(function(d) { dom.content(box, render(d)); }); }, api.pollIntervalS);
		return E('div', {}, [ api.style(), E('h2', {}, _('Self-healing')), box ]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
