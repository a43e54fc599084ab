'use strict';
'require baseclass';
'require rpc';

/*
 * The x0tta6bl4 agent's ubus object, as every view of this app sees it, plus the formatting the views share.
 * Every method declared here is listed in root/usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json (read group:
 * status peers raft mesh events version; admin group: reload revoke token), and nothing else is called.
 */

var callStatus = rpc.declare({ object: 'x0tta6bl4', method: 'status', expect: { '': {} } });
var callPeers = rpc.declare({ object: 'x0tta6bl4', method: 'peers', expect: { peers: [] } });
var callRaft = rpc.declare({ object: 'x0tta6bl4', method: 'raft', expect: { '': {} } });
var callMesh = rpc.declare({ object: 'x0tta6bl4', method: 'mesh', expect: { '': {} } });
var callEvents = rpc.declare({ object: 'x0tta6bl4', method: 'events', params: [ 'limit' ], expect: { events: [] } });
var callVersion = rpc.declare({ object: 'x0tta6bl4', method: 'version', expect: { '': {} } });
var callReload = rpc.declare({ object: 'x0tta6bl4', method: 'reload', expect: { '': {} } });
var callRevoke = rpc.declare({ object: 'x0tta6bl4', method: 'revoke', params: [ 'node' ], expect: { '': {} } });
var callToken = rpc.declare({ object: 'x0tta6bl4', method: 'token', params: [ 'node', 'ttl_s' ], expect: { '': {} } });
/* LuCI's own session object (luci-base's ACL): may this session use the admin group? */
var callAccess = rpc.declare({ object: 'session', method: 'access', params: [ 'scope', 'object', 'function' ], expect: { access: false } });

/* Bounds on what the agent sends, so a broken or hostile answer cannot flood the page. */
var nodesMax = 512;
var eventsLimit = 200;
var pollIntervalS = 5;

function bounded(list, max) {
	return Array.isArray(list) ? list.slice(0, max) : [];
}

/* TQ (0..255) -> a class and a colour; the thresholds follow batman-adv's usual reading of link quality. */
var tqBands = [
	{ min: 200, cls: 'good', colour: '#2e9e44', label: _('good') },
	{ min: 120, cls: 'fair', colour: '#c6a700', label: _('fair') },
	{ min: 60, cls: 'poor', colour: '#e07b00', label: _('poor') },
	{ min: 0, cls: 'bad', colour: '#d42c2c', label: _('bad') }
];

return baseclass.extend({
	nodesMax: nodesMax,
	eventsLimit: eventsLimit,
	pollIntervalS: pollIntervalS,
	tqBands: tqBands,

	status: function() { return callStatus(); },
	peers: function() { return callPeers().then(function(p) { return bounded(p, nodesMax); }); },
	raft: function() { return callRaft(); },
	events: function(limit) { return callEvents(limit || eventsLimit).then(function(e) { return bounded(e, eventsLimit); }); },
	version: function() { return callVersion(); },
	reload: function() { return callReload(); },
	revoke: function(node) { return callRevoke(node); },
	token: function(node, ttlS) { return callToken(node, ttlS); },

	mesh: function() {
		return callMesh().then(function(m) {
			return {
				nodes: bounded(m.nodes, nodesMax),
				revocations: bounded(m.revocations, nodesMax),
				last_convergence_s: m.last_convergence_s
			};
		});
	},

	/* Resolves true when this session holds the admin group's write access (rpcd decides, not the page). */
	isAdmin: function() {
		return L.resolveDefault(callAccess('access-group', 'luci-app-x0tta6bl4-admin', 'write'), false);
	},

	/* A call that may fail (agent down, ACL): resolves to the fallback and remembers the error for a banner. */
	tryCall: function(promise, fallback, errors) {
		return Promise.resolve(promise).catch(function(err) {
			errors.push(err && err.message ? err.message : String(err));
			return fallback;
		});
	},

	errorBanner: function(errors) {
		if (!errors.length)
			return E('div', { 'class': 'x0-errors', 'style': 'display:none' });

		return E('div', { 'class': 'alert-message warning x0-errors' }, [
			E('strong', {}, _('The x0tta6bl4 agent did not answer everything:')),
			E('ul', {}, errors.slice(0, 5).map(function(e) { return E('li', {}, e); }))
		]);
	},

	tqBand: function(tq) {
		for (var i = 0; i < tqBands.length; i++)
			if (+tq >= tqBands[i].min)
				return tqBands[i];
		return tqBands[tqBands.length - 1];
	},

	/* Seconds -> "3h 12m", "45s". */
	duration: function(s) {
		s = Math.max(0, Math.floor(+s || 0));
		if (s < 60) return '%ds'.format(s);
		if (s < 3600) return '%dm %ds'.format(Math.floor(s / 60), s % 60);
		if (s < 86400) return '%dh %dm'.format(Math.floor(s / 3600), Math.floor(s % 3600 / 60));
		return '%dd %dh'.format(Math.floor(s / 86400), Math.floor(s % 86400 / 3600));
	},

	/* Unix seconds -> "in 3h 12m" / "expired 5m ago". */
	expiresIn: function(unixS) {
		if (!unixS) return '-';
		var left = unixS - Math.floor(Date.now() / 1000);
		return left >= 0 ? _('in %s').format(this.duration(left)) : _('expired %s ago').format(this.duration(-left));
	},

	secondsLeft: function(unixS) {
		return unixS ? unixS - Math.floor(Date.now() / 1000) : Infinity;
	},

	time: function(ms) {
		var d = new Date(+ms);
		return isNaN(d) ? '-' : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
	},

	/* A small shared stylesheet, once per page. */
	style: function() {
		if (document.getElementById('x0-style'))
			return E('span');

		return E('style', { 'id': 'x0-style' }, [
			'.x0-cards{display:flex;flex-wrap:wrap;gap:.5em;margin-bottom:1em}',
			'.x0-card{flex:1 1 9em;border:1px solid #ccc;border-radius:4px;padding:.4em .6em;min-width:8em}',
			'.x0-card .x0-label{font-size:85%;opacity:.75}',
			'.x0-card .x0-value{font-size:130%;font-weight:bold;word-break:break-word}',
			'.x0-badge{display:inline-block;padding:0 .45em;border-radius:3px;color:#fff;font-size:90%;white-space:nowrap}',
			'.x0-up{background:#2e9e44}.x0-seen{background:#5b7fb3}.x0-down{background:#d42c2c}.x0-revoked{background:#555}',
			'.x0-degraded{background:#e07b00}.x0-disabled{background:#888}.x0-running{background:#2e9e44}.x0-starting{background:#5b7fb3}',
			'.x0-good{background:#2e9e44}.x0-fair{background:#c6a700}.x0-poor{background:#e07b00}.x0-bad{background:#d42c2c}',
			'.x0-topology{width:100%;max-width:640px;height:auto;display:block;margin:0 auto}',
			'.x0-legend{display:flex;flex-wrap:wrap;gap:.3em 1em;font-size:90%;justify-content:center;margin:.5em 0 1em}',
			'.x0-scroll{overflow-x:auto;max-width:100%}',
			'.x0-timeline{list-style:none;margin:.3em 0 0 .3em;padding:0 0 0 1em;border-left:3px solid #ccc}',
			'.x0-timeline li{margin:.2em 0}',
			'.x0-incident{border:1px solid #ccc;border-radius:4px;padding:.5em .7em;margin-bottom:.8em}',
			'.x0-mono{font-family:monospace;word-break:break-all}',
			'th.x0-sortable{cursor:pointer;white-space:nowrap}',
			'@media (max-width:480px){.x0-card{flex:1 1 40%}.table .x0-hide-narrow,table .x0-hide-narrow{display:none!important}}'
		].join('\n'));
	},

	badge: function(cls, text) {
		return E('span', { 'class': 'x0-badge x0-' + cls }, text);
	},

	card: function(label, value, id) {
		return E('div', { 'class': 'x0-card', 'data-x0': id || null }, [
			E('div', { 'class': 'x0-label' }, label),
			E('div', { 'class': 'x0-value' }, value)
		]);
	}
});
