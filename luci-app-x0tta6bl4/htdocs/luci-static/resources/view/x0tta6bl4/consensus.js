'use strict';
'require view';
'require poll';
'require dom';
'require x0tta6bl4.api as api';

/*
 * Consensus: this node's view of Raft (the anchors are the voters): term, leader, commit and applied index,
 * and per member its match index and how far it lags behind the commit index.
 */

var lagWarn = 10;

function render(data) {
	var r = data.raft, members = Array.isArray(r.members) ? r.members.slice(0, api.nodesMax) : [];
	var maxLag = members.reduce(function(m, x) { return Math.max(m, +x.lag || 0); }, 1);
	return E('div', {}, [
		api.errorBanner(data.errors),
		E('div', { 'class': 'x0-cards' }, [
			api.card(_('Role here'), r.role || '-', 'role'),
			api.card(_('Term'), r.term != null ? String(r.term) : '-', 'term'),
			api.card(_('Leader'), r.leader || _('none'), 'leader'),
			api.card(_('Commit index'), r.commit_index != null ? String(r.commit_index) : '-', 'commit'),
			api.card(_('Applied index'), r.applied_index != null ? String(r.applied_index) : '-', 'applied')
		]),
		E('h3', {}, _('Members')),
		E('div', { 'class': 'x0-scroll' }, E('table', { 'class': 'table x0-members' }, [
			E('tr', { 'class': 'tr table-titles' }, [ E('th', { 'class': 'th' }, _('Member')), E('th', { 'class': 'th' }, _('Kind')),
				E('th', { 'class': 'th' }, _('Match index')), E('th', { 'class': 'th' }, _('Lag (entries)')) ])
		].concat(members.map(function(m) {
			var lag = +m.lag || 0;
			return E('tr', { 'class': 'tr', 'data-member': m.id, 'data-lag': lag }, [
				E('td', { 'class': 'td' }, [ E('strong', {}, m.id), m.id == r.leader ? ' ★ ' + _('leader') : '' ]),
				E('td', { 'class': 'td' }, m.voter ? _('voter') : _('learner')),
				E('td', { 'class': 'td' }, String(m.match_index != null ? m.match_index : '-')),
				E('td', { 'class': 'td' }, E('div', { 'style': 'display:flex;align-items:center;gap:.5em' }, [
					E('div', { 'style': 'flex:0 0 6em;height:.7em;background:#eee;border-radius:3px;overflow:hidden' },
						E('div', { 'style': 'height:100%%;width:%d%%;background:%s'.format(Math.round(100 * lag / maxLag), lag >= lagWarn ? '#e07b00' : '#2e9e44') })),
					E('span', { 'class': lag >= lagWarn ? 'x0-lag-warn' : null }, String(lag))
				]))
			]);
		})))),
		members.length ? '' : E('p', { 'class': 'x0-empty' }, _('No Raft members known (this node is not part of the Raft group yet).'))
	]);
}

function fetchAll() {
	var errors = [];
	return api.tryCall(api.raft(), {}, errors).then(function(r) { return { raft: r, errors: errors }; });
}

return view.extend({
	load: fetchAll,

	render: function(data) {
		var box = E('div', { 'id': 'x0-consensus-box' }, render(data));
		poll.add(function() { return fetchAll().then(function(d) { dom.content(box, render(d)); }); }, api.pollIntervalS);
		return E('div', {}, [ api.style(), E('h2', {}, _('Consensus (Raft)')), box ]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
