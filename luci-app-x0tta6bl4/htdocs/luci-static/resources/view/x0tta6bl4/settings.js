'use strict';
'require view';
'require form';
'require ui';
'require x0tta6bl4.api as api';
'require x0tta6bl4.validate as validate';

/*
 * Settings: /etc/config/x0tta6bl4 through LuCI's form (uci over rpcd), every option the agent documents
 * (docs/config.md), each validated with the agent's own rules (x0tta6bl4/validate.js). After "Save & Apply"
 * the init script's config trigger makes procd reload the agent; "Reload the agent" asks it directly (admin).
 */

function bind(option, name) {
	option.validate = function(sectionId, value) {
		return validate.check(name, value);
	};
	return option;
}

function listBound(option, name, max) {
	option.validate = function(sectionId, value) {
		var all = this.formvalue(sectionId) || [];
		if (all.length > max)
			return _('At most %d entries').format(max);
		var names = all.map(function(v) { return String(v).split('@')[0]; });
		if (names.filter(function(n, i) { return n && names.indexOf(n) != i; }).length)
			return _('Names are unique');
		return validate.check(name, value);
	};
	return option;
}

return view.extend({
	load: function() {
		return api.isAdmin();
	},

	render: function(isAdmin) {
		var m, s, o;

		m = new form.Map('x0tta6bl4', _('x0tta6bl4 settings'),
			_('The mesh agent\'s configuration (/etc/config/x0tta6bl4). Values are checked with the agent\'s own rules; empty means the default.'));

		s = m.section(form.NamedSection, 'main', 'agent', _('Agent'));
		s.addremove = false;
		s.tab('general', _('General'));
		s.tab('mesh', _('Mesh'));
		s.tab('advanced', _('Advanced'));

		o = s.taboption('general', form.Flag, 'enabled', _('Enabled'));
		o.default = '1';
		o.rmempty = false;

		o = bind(s.taboption('general', form.Value, 'node_name', _('Node name'), _('Empty: the router\'s hostname. Part of the node\'s SPIFFE ID.')), 'node_name');

		o = s.taboption('general', form.ListValue, 'role', _('Role'), _('Anchors are Raft voters and hold the mesh CA.'));
		o.value('node', _('node'));
		o.value('anchor', _('anchor'));
		o.default = 'node';
		o.rmempty = false;  /* the agent requires it */
		o.validate = function(sectionId, value) {
			var ok = validate.check('role', value);
			if (ok !== true || value != 'anchor')
				return ok;
			/* The agent refuses an anchor that is missing from a non-empty anchor list. */
			var anchors = this.section.formvalue(sectionId, 'anchor') || [];
			var name = this.section.formvalue(sectionId, 'node_name');
			if (anchors.length && name && !anchors.some(function(a) { return String(a).split('@')[0] == name; }))
				return _('This node\'s role is anchor, so the anchor list must name it (%s@HOST:PORT)').format(name);
			return true;
		};

		o = s.taboption('general', form.ListValue, 'log_level', _('Log level'));
		[ 'debug', 'info', 'warn', 'error' ].forEach(function(l) { o.value(l); });
		o.default = 'info';

		o = bind(s.taboption('mesh', form.Value, 'trust_domain', _('Trust domain'), _('The SPIFFE trust domain of the mesh, the same on every node.')), 'trust_domain');
		o.placeholder = 'mesh.x0';

		o = bind(s.taboption('mesh', form.Value, 'join_token', _('Join token'), _('A one-time token from an anchor; the agent empties it once redeemed.')), 'join_token');
		o.password = true;

		o = bind(s.taboption('mesh', form.Value, 'mesh_interface', _('Mesh interface'), _('The batman-adv interface; empty: no batman-adv (peers from the static list).')), 'mesh_interface');
		o.placeholder = 'bat0';

		o = bind(s.taboption('mesh', form.Value, 'listen', _('Listen on'), _('HOST:PORT for the mesh channels.')), 'listen');
		o.placeholder = '0.0.0.0:7400';

		o = listBound(s.taboption('mesh', form.DynamicList, 'anchor', _('Anchors'), _('NAME@HOST:PORT of each anchor (Raft voter), at most %d.').format(validate.limits.anchorsMax)), 'anchor', validate.limits.anchorsMax);

		o = listBound(s.taboption('mesh', form.DynamicList, 'static_peer', _('Static peers'), _('NAME@HOST:PORT of peers reached without batman-adv.')), 'static_peer', validate.limits.staticPeersMax);

		o = bind(s.taboption('advanced', form.Value, 'state_dir', _('State directory'), _('Keys, certificates, Raft and gossip state; must survive sysupgrade.')), 'state_dir');
		o.placeholder = '/etc/x0tta6bl4';

		o = bind(s.taboption('advanced', form.Value, 'batctl', _('batctl command')), 'batctl');
		o.placeholder = 'batctl';

		o = bind(s.taboption('advanced', form.Value, 'ubus_socket', _('ubus socket')), 'ubus_socket');
		o.placeholder = '/var/run/ubus/ubus.sock';

		s = m.section(form.NamedSection, 'uplink', 'uplink', _('Telemetry uplink (MQTT)'));
		s.addremove = false;

		o = s.option(form.Flag, 'enabled', _('Enabled'));
		o.rmempty = false;

		o = bind(s.option(form.Value, 'broker', _('Broker'), _('HOST:PORT of the MQTT broker; required when the uplink is enabled.')), 'broker');
		o.depends('enabled', '1');
		o.rmempty = false;
		o.validate = function(sectionId, value) {
			if (value === '' && this.section.formvalue(sectionId, 'enabled') == '1')
				return _('Required when the uplink is enabled');
			return validate.check('broker', value);
		};

		o = bind(s.option(form.Value, 'topic_prefix', _('Topic prefix')), 'topic_prefix');
		o.placeholder = 'x0';

		o = bind(s.option(form.Value, 'interval', _('Interval'), _('500ms | 10s | 5m | 1h; a bare number is seconds; 1s..1h.')), 'interval');
		o.placeholder = '10s';

		o = s.option(form.ListValue, 'qos', _('QoS'));
		o.value('0');
		o.value('1');
		o.default = '0';

		o = s.option(form.ListValue, 'protocol', _('MQTT version'));
		o.value('3.1.1');
		o.value('5');
		o.default = '3.1.1';

		s = m.section(form.NamedSection, 'xdp', 'xdp', _('XDP data plane'));
		s.addremove = false;

		o = s.option(form.Flag, 'enabled', _('Enabled'));
		o.rmempty = false;

		o = listBound(s.option(form.DynamicList, 'interface', _('Interfaces'), _('Where the XDP program attaches, at most %d.').format(validate.limits.xdpInterfacesMax)), 'interface', validate.limits.xdpInterfacesMax);

		return m.render().then(function(node) {
			if (!isAdmin)
				return node;
			return E('div', {}, [ node, E('div', { 'class': 'cbi-section' }, [
				E('p', {}, _('Saved settings reach the agent through procd\'s config trigger; this asks the agent directly:')),
				E('button', { 'class': 'btn cbi-button cbi-button-action x0-reload', 'click': ui.createHandlerFn(this, function() {
					return api.reload().then(function(res) {
						ui.addNotification(null, E('p', { 'class': 'x0-reload-result' }, _('Reloaded. Applied: %s. Needs a restart: %s.').format(
							(res.applied || []).join(', ') || _('nothing'), (res.needs_restart || []).join(', ') || _('nothing'))), 'info');
					}).catch(function(err) {
						ui.addNotification(null, E('p', {}, _('Reload failed: %s').format(err.message)), 'danger');
					});
				}) }, _('Reload the agent'))
			]) ]);
		});
	}
});
