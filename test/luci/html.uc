// Stand-in for ucode-mod-html (OpenWrt's C module, not among the pinned sources), with the two
// functions LuCI's dispatcher and templates import. Same contract: strings in, strings out; anything
// else is converted to a string first, null stays null.
'use strict';

export function striptags(value) {
	if (value == null)
		return null;

	return replace(replace(`${value}`, /<[^>]*>/g, ''), /[ \t\r\n]+/g, ' ');
};

export function entityencode(value) {
	if (value == null)
		return null;

	return replace(`${value}`, /[&<>"']/g, (c) => ({
		'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;'
	})[c]);
};
