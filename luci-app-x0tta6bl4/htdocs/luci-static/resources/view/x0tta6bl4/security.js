'use strict';
'require view';
'require poll';
'require dom';
'require ui';
'require x0tta6bl4.api as api';

/*
 * Security: the signed revocation list, certificates about to expire, and, on an anchor for a login that holds
 * the luci-app-x0tta6bl4-admin ACL group, two actions, each behind a confirmation: revoke a node, issue a
 * join token. rpcd enforces the ACL; the page only hides what it would refuse.
 */

var certSoonS = 24 * 3600;
var tokenTtls = [ [ 3600, _('1 hour') ], [ 86400, _('1 day') ], [ 7 * 86400, _('7 days') ] ];
var nodeNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function revocations(mesh) {
	var list = mesh.revocations.slice().sort(function(a, b) { return b.revoked_at - a.revoked_at; });
	if (!list.length)
		return E('p', { 'class': 'x0-empty x0-no-revocations' }, _('No node is revoked.'));
	return E('div', { 'class': 'x0-scroll' }, E('table', { 'class': 'table x0-revocations' }, [
		E('tr', { 'class': 'tr table-titles' }, [ E('th', { 'class': 'th' }, _('Node')), E('th', { 'class': 'th' }, _('Revoked at')) ])
	].concat(list.map(function(r) {
		return E('tr', { 'class': 'tr', 'data-node': r.id }, [ E('td', { 'class': 'td' }, [ api.badge('revoked', _('revoked')), ' ', E('strong', {}, r.id) ]),
			E('td', { 'class': 'td' }, api.time(r.revoked_at * 1000)) ]);
	}))));
}

function expiring(mesh) {
	var list = mesh.nodes.filter(function(n) { return !n.revoked && api.secondsLeft(n.cert_expires_at) < certSoonS; })
		.sort(function(a, b) { return a.cert_expires_at - b.cert_expires_at; });
	if (!list.length)
		return E('p', { 'class': 'x0-empty x0-no-expiring' }, _('No certificate expires within 24 hours.'));
	return E('div', { 'class': 'x0-scroll' }, E('table', { 'class': 'table x0-expiring' }, [
		E('tr', { 'class': 'tr table-titles' }, [ E('th', { 'class': 'th' }, _('Node')), E('th', { 'class': 'th' }, _('Certificate expires')) ])
	].concat(list.map(function(n) {
		var left = api.secondsLeft(n.cert_expires_at);
		return E('tr', { 'class': 'tr', 'data-node': n.id }, [ E('td', { 'class': 'td' }, E('strong', {}, n.id)),
			E('td', { 'class': 'td' }, E('span', { 'style': left < 3600 ? 'color:#d42c2c;font-weight:bold' : null }, api.expiresIn(n.cert_expires_at))) ]);
	}))));
}

function confirm(title, text, actionLabel, action) {
	ui.showModal(title, [
		E('p', {}, text),
		E('div', { 'class': 'right' }, [
			E('button', { 'class': 'btn cbi-button x0-cancel', 'click': ui.hideModal }, _('Cancel')), ' ',
			E('button', { 'class': 'btn cbi-button cbi-button-negative important x0-confirm', 'click': function() {
				ui.hideModal();
				action();
			} }, actionLabel)
		])
	]);
}

function notify(ok, text) {
	ui.addNotification(null, E('p', { 'class': ok ? 'x0-result-ok' : 'x0-result-failed' }, text), ok ? 'info' : 'danger');
}

return view.extend({
	fetch: function() {
		var errors = [];
		return Promise.all([
			api.tryCall(api.status(), {}, errors),
			api.tryCall(api.mesh(), { nodes: [], revocations: [] }, errors),
			api.isAdmin()
		]).then(function(r) { return { status: r[0], mesh: r[1], admin: r[2], errors: errors }; });
	},

	load: function() { return this.fetch(); },

	revokeForm: function(data) {
		var self = this, candidates = data.mesh.nodes.filter(function(n) { return !n.revoked && n.id != data.status.node_id; });
		var select = E('select', { 'class': 'cbi-input-select x0-revoke-node' }, candidates.map(function(n) { return E('option', { 'value': n.id }, n.id); }));
		return E('div', { 'class': 'cbi-section x0-revoke' }, [
			E('h4', {}, _('Revoke a node')),
			E('p', {}, _('Every node will refuse the revoked node\'s certificate; it must join again with a new token.')),
			E('div', { 'style': 'display:flex;flex-wrap:wrap;gap:.5em' }, [ select,
				E('button', { 'class': 'btn cbi-button cbi-button-negative x0-revoke-button', 'disabled': candidates.length ? null : true, 'click': function() {
					var node = select.value;
					confirm(_('Revoke %s?').format(node), _('Revoke node %s? It cannot be undone from this page.').format(node), _('Revoke'), function() {
						return api.revoke(node).then(function(res) {
							notify(res.ok, res.ok ? _('%s is revoked.').format(node) : _('Revoking %s failed: %s').format(node, res.reason || '?'));
							return self.refresh();
						}).catch(function(err) { notify(false, _('Revoking %s failed: %s').format(node, err.message)); });
					});
				} }, _('Revoke…')) ])
		]);
	},

	tokenForm: function() {
		var name = E('input', { 'type': 'text', 'class': 'cbi-input-text x0-token-node', 'placeholder': _('new node name'), 'maxlength': 63 });
		var ttl = E('select', { 'class': 'cbi-input-select x0-token-ttl' }, tokenTtls.map(function(t) { return E('option', { 'value': t[0] }, t[1]); }));
		return E('div', { 'class': 'cbi-section x0-token' }, [
			E('h4', {}, _('Issue a join token')),
			E('p', {}, _('A one-time token a new router puts in its settings (join_token) to get its certificate.')),
			E('div', { 'style': 'display:flex;flex-wrap:wrap;gap:.5em' }, [ name, ttl,
				E('button', { 'class': 'btn cbi-button cbi-button-action x0-token-button', 'click': function() {
					var node = name.value.trim(), ttlS = +ttl.value;
					if (!nodeNamePattern.test(node))
						return notify(false, _('A node name is 1 to 63 characters: letters, digits, ".", "_", "-", starting with a letter or digit.'));
					confirm(_('Issue a join token?'), _('Issue a one-time join token for %s, valid %s?').format(node, ttl.options[ttl.selectedIndex].text), _('Issue token'), function() {
						return api.token(node, ttlS).then(function(res) {
							if (!res.ok)
								return notify(false, _('Issuing a token for %s failed: %s').format(node, res.reason || '?'));
							ui.showModal(_('Join token for %s').format(node), [
								E('p', {}, _('Copy it now; it is shown once.')),
								E('textarea', { 'class': 'x0-token-value x0-mono', 'readonly': true, 'rows': 3, 'style': 'width:100%' }, res.token || _('(the agent returned no token text)')),
								E('div', { 'class': 'right' }, E('button', { 'class': 'btn cbi-button', 'click': ui.hideModal }, _('Close')))
							]);
						}).catch(function(err) { notify(false, _('Issuing a token for %s failed: %s').format(node, err.message)); });
					});
				} }, _('Issue token…')) ])
		]);
	},

	actions: function(data) {
		if (data.status.role != 'anchor')
			return E('p', { 'class': 'x0-no-actions' }, _('Revoking and issuing join tokens happen on an anchor; this node is a %s.').format(data.status.role || '?'));
		if (!data.admin)
			return E('p', { 'class': 'x0-no-actions' }, _('This login may read but not act: revoking and issuing tokens need the ACL group luci-app-x0tta6bl4-admin.'));
		return E('div', { 'class': 'x0-actions' }, [ this.revokeForm(data), this.tokenForm() ]);
	},

	body: function(data) {
		return E('div', {}, [
			api.errorBanner(data.errors),
			E('h3', {}, _('Revoked nodes')), revocations(data.mesh),
			E('h3', {}, _('Certificates expiring within 24 hours')), expiring(data.mesh),
			E('h3', {}, _('Actions')), this.actions(data)
		]);
	},

	refresh: function() {
		var self = this;
		return this.fetch().then(function(d) { dom.content(self.box, self.body(d)); });
	},

	render: function(data) {
		var self = this;
		this.box = E('div', { 'id': 'x0-security-box' }, this.body(data));
		/* Polling redraws the lists only, so a half-typed token request is not wiped. */
		poll.add(function() {
			return self.fetch().then(function(d) {
				var lists = self.box.querySelectorAll('.x0-revocations, .x0-no-revocations, .x0-expiring, .x0-no-expiring');
				if (lists.length == 2 && !document.querySelector('#modal_overlay.visible, body.modal-overlay-active')) {
					lists[0].replaceWith(revocations(d.mesh));
					lists[1].replaceWith(expiring(d.mesh));
				}
			});
		}, api.pollIntervalS * 2);
		return E('div', {}, [ api.style(), E('h2', {}, _('Security')), this.box ]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
