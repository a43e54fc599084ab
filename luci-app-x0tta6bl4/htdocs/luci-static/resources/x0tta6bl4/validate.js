'use strict';
'require baseclass';

/*
 * The agent's rules for /etc/config/x0tta6bl4 (src/agent/config.ts, docs/config.md), for the settings form.
 * Each checker takes the option's text and answers true or a message saying what is allowed. An empty value
 * means "unset" (the agent's default), as in uci. test/luci checks these against the agent's own
 * validateConfig for a table of good and bad values, so the two cannot drift apart unnoticed.
 */

var limits = {
	nameCharsMax: 63,           /* src/core/identity/limits.ts */
	trustDomainCharsMax: 255,
	tokenCharsMax: 1024,
	interfaceCharsMax: 15,      /* IFNAMSIZ - 1 */
	pathCharsMax: 255,
	hostCharsMax: 253,
	topicPrefixCharsMax: 64,
	intervalMsMin: 1000,
	intervalMsMax: 3600000,
	anchorsMax: 9,
	staticPeersMax: 256,
	xdpInterfacesMax: 16
};

var tokenPrefix = 'x0jt1.';
var ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
var hostLabel = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
var ipv6 = /^[0-9A-Fa-f:.]{2,45}$/;
var hostPortAllowed = _('HOST:PORT with an IPv4 address, a host name or [IPv6], and a port 1..65535');
var durationUnitsMs = { ms: 1, s: 1000, m: 60000, h: 3600000 };

function isName(text) {
	return text.length > 0 && text.length <= limits.nameCharsMax && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text) && text != '.' && text != '..';
}

function isHost(host) {
	if (host.length == 0 || host.length > limits.hostCharsMax) return false;
	if (/^[\d.]+$/.test(host)) return ipv4.test(host);
	return host.split('.').every(function(label) { return hostLabel.test(label); });
}

function hostPort(text) {
	var m = /^(\[([^\]]*)\]|[^:[\]]*):(\d{1,5})$/.exec(text);
	if (!m) return hostPortAllowed;
	var ok = m[2] != null ? (ipv6.test(m[2]) && m[2].indexOf(':') >= 0) : isHost(m[1] || '');
	if (!ok) return hostPortAllowed;
	if (+m[3] < 1 || +m[3] > 65535) return _('a port 1..65535');
	return true;
}

function unset(text) {
	return text == null || text === '';
}

var checks = {
	node_name: function(v) {
		return unset(v) || isName(v) || _('Letters, digits, ".", "_", "-", starting with a letter or digit, at most %d characters').format(limits.nameCharsMax);
	},
	role: function(v) {
		return unset(v) || v == 'anchor' || v == 'node' || 'anchor | node';
	},
	state_dir: function(v) {
		return unset(v) || (v.charAt(0) == '/' && v.length <= limits.pathCharsMax && !/[\s\0]/.test(v)) ||
			_('An absolute path without spaces, at most %d characters').format(limits.pathCharsMax);
	},
	ubus_socket: function(v) {
		return checks.state_dir(v);
	},
	batctl: function(v) {
		return unset(v) || (v.length <= limits.pathCharsMax && (/^[A-Za-z0-9._+-]+$/.test(v) || (v.charAt(0) == '/' && !/[\s\0]/.test(v)))) ||
			_('A program name or an absolute path, without spaces');
	},
	trust_domain: function(v) {
		return unset(v) || (v.length <= limits.trustDomainCharsMax && /^[a-z0-9._-]+$/.test(v)) ||
			_('Lowercase letters, digits, ".", "_", "-", at most %d characters').format(limits.trustDomainCharsMax);
	},
	join_token: function(v) {
		return unset(v) || (v.indexOf(tokenPrefix) == 0 && v.length <= limits.tokenCharsMax && /^[A-Za-z0-9_-]+$/.test(v.substr(tokenPrefix.length))) ||
			_('A join token from an anchor (%s..., at most %d characters)').format(tokenPrefix, limits.tokenCharsMax);
	},
	mesh_interface: function(v) {
		return unset(v) || checks.interface(v);
	},
	interface: function(v) {
		return unset(v) || (v.length <= limits.interfaceCharsMax && /^[A-Za-z0-9_.@:-]+$/.test(v) && v != '.' && v != '..') ||
			_('A network interface name (letters, digits, ".", "_", "-", ":", "@"), at most %d characters').format(limits.interfaceCharsMax);
	},
	listen: function(v) {
		return unset(v) || hostPort(v);
	},
	broker: function(v) {
		return unset(v) || hostPort(v);
	},
	peer: function(v) {
		if (unset(v)) return true;
		var at = v.indexOf('@');
		if (at < 0 || !isName(v.substr(0, at)) || hostPort(v.substr(at + 1)) !== true)
			return _('NAME@HOST:PORT (a node name, then %s)').format(hostPortAllowed);
		return true;
	},
	log_level: function(v) {
		return unset(v) || [ 'debug', 'info', 'warn', 'error' ].indexOf(v) >= 0 || 'debug | info | warn | error';
	},
	topic_prefix: function(v) {
		return unset(v) || (v.length <= limits.topicPrefixCharsMax && /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(v)) ||
			_('MQTT topic levels of letters, digits, ".", "_", "-" separated by "/", no wildcards, at most %d characters').format(limits.topicPrefixCharsMax);
	},
	interval: function(v) {
		if (unset(v)) return true;
		var m = /^(\d{1,9})(ms|s|m|h)?$/.exec(v);
		if (!m) return _('A duration: 500ms | 10s | 5m | 1h, a bare number is seconds, within 1s..1h');
		var ms = +m[1] * durationUnitsMs[m[2] || 's'];
		return (ms >= limits.intervalMsMin && ms <= limits.intervalMsMax) || _('Within 1s..1h');
	},
	qos: function(v) {
		return unset(v) || v == '0' || v == '1' || '0 | 1';
	},
	protocol: function(v) {
		return unset(v) || v == '3.1.1' || v == '4' || v == '5' || '3.1.1 | 5';
	},
	enabled: function(v) {
		return unset(v) || [ '1', 'yes', 'on', 'true', 'enabled', '0', 'no', 'off', 'false', 'disabled' ].indexOf(v) >= 0 || '0 | 1';
	}
};

return baseclass.extend({
	limits: limits,
	checks: checks,
	isName: isName,

	/* One option's checker by its UCI name (anchor and static_peer share `peer`). */
	check: function(option, value) {
		var fn = checks[option == 'anchor' || option == 'static_peer' ? 'peer' : option];
		return fn ? fn(value == null ? '' : String(value)) : true;
	}
});
