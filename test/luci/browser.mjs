// The LuCI app in headless Chromium (Debian's chromium through puppeteer-core) against LuCI's own runtime
// served by uhttpd + rpcd + ubusd (started by test/luci/run.sh). What the page shows is compared with what the
// agent answers on ubus (read with the real ubus CLI inside the root), so the checks hold for the scratch
// provider and for the real agent alike; the scenario checks (node down, revoked, healed) need the scratch
// provider's known states and are skipped for any other agent.
// Usage: node --import tsx test/luci/browser.mjs --base URL --root DIR --label NAME
//          [--scenario-file FILE] [--provider-log FILE] [--shots DIR]
// Prints one line per check (ok / not ok / skip) and last `N passed, N failed, N skipped`; exit 1 on a failure.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import puppeteer from 'puppeteer-core';
import { loadConfigText } from '../../src/agent/config.ts';
import { healedTraceId } from './mesh-state.ts';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
if (args.includes('--help') || args.includes('-h')) {
  console.log(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(0, 8).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const base = opt('--base'), root = opt('--root'), label = opt('--label') ?? 'luci';
const scenarioFile = opt('--scenario-file'), providerLog = opt('--provider-log'), shots = opt('--shots');
if (!base || !root) { console.error('browser: --base URL and --root DIR are required (--help)'); process.exit(2); }
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!fs.existsSync(chromium)) { console.error(`browser: ${chromium} is missing: apt-get install chromium (scripts/apt-packages/luci.txt) or set CHROMIUM`); process.exit(2); }

const users = { root: ['root', 'x0-luci-root'], viewer: ['viewer', 'x0-luci-viewer'] };
const views = ['overview', 'nodes', 'consensus', 'healing', 'security', 'settings'];
const viewReady = {
  overview: '#x0-overview-box .x0-cards', nodes: 'table.x0-nodes', consensus: '#x0-consensus-box .x0-cards',
  healing: '#x0-healing-box .x0-cards', security: '#x0-security-box h3', settings: '.cbi-map',
};
const pageTimeoutMs = 20000;
let passed = 0, failed = 0, skipped = 0;

function ok(name) { passed++; console.log(`ok - ${label}: ${name}`); }
function notOk(name, why) { failed++; console.log(`not ok - ${label}: ${name}: ${why}`); }
function skip(name, why) { skipped++; console.log(`skip - ${label}: ${name}: ${why}`); }
async function check(name, fn) {
  try { await fn(); ok(name); } catch (err) { notOk(name, err && err.message ? err.message.split('\n')[0] : String(err)); }
}
function expect(cond, what) { if (!cond) throw new Error(what); }
function same(actual, wanted, what) {
  const a = JSON.stringify(actual), w = JSON.stringify(wanted);
  if (a !== w) throw new Error(`${what}: page shows ${a}, agent says ${w}`);
}

/** The agent's answer, through the real ubus CLI and ubusd inside the root. */
function ubus(method, argsJson) {
  const argv = [root, '/usr/bin/ubus', '-s', '/var/run/ubus/ubus.sock', 'call', 'x0tta6bl4', method];
  if (argsJson) argv.push(argsJson);
  return JSON.parse(execFileSync('/usr/sbin/chroot', argv, { env: { LD_LIBRARY_PATH: '/usr/lib' }, timeout: 10000 }).toString());
}
const scratch = Boolean(scenarioFile);
function scenario(name) { fs.writeFileSync(scenarioFile, name); }

const browser = await puppeteer.launch({
  executablePath: chromium, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
});

/** A fresh browser context logged in as user; problems seen after the login are collected. */
async function session(user, width = 1280) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width, height: 900 });
  page.setDefaultTimeout(pageTimeoutMs);
  const problems = [];
  let armed = false;
  page.on('pageerror', (e) => armed && problems.push(`JS error: ${e.message.split('\n')[0]}`));
  page.on('console', (m) => armed && m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  page.on('requestfailed', (r) => armed && !/ERR_ABORTED/.test(r.failure()?.errorText ?? '') && problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => armed && r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.goto(`${base}/cgi-bin/luci/admin/services/x0tta6bl4/overview`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('input[name=luci_password]');
  await page.$eval('input[name=luci_username]', (e, u) => { e.value = u; }, users[user][0]);
  await page.$eval('input[name=luci_password]', (e, p) => { e.value = p; }, users[user][1]);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.$eval('input[name=luci_password]', (e) => e.form.submit())]);
  expect(!(await page.$('input[name=luci_password]')), `login as ${user} failed`);
  armed = true;
  return { context, page, problems };
}

async function open(s, view) {
  await s.page.goto(`${base}/cgi-bin/luci/admin/services/x0tta6bl4/${view}`, { waitUntil: 'domcontentloaded' });
  await s.page.waitForSelector(viewReady[view]);
  await s.page.waitForFunction(() => !document.querySelector('#view .spinning'));
  await new Promise((r) => setTimeout(r, 300));
}

function noProblems(s) {
  const list = s.problems.splice(0);
  expect(list.length === 0, list.slice(0, 3).join('; '));
}

const text = (s, sel) => s.page.$$eval(sel, (els) => els.map((e) => e.textContent.trim()));

// ---- as root (admin) ----
let admin;
try { admin = await session('root'); ok('root logs in through LuCI\'s login (rpcd session)'); }
catch (err) { notOk('root logs in through LuCI\'s login (rpcd session)', err.message); }

if (admin) {
  if (scratch) scenario('baseline');
  for (const view of views) {
    await check(`${view} view renders with no JS error or failed request`, async () => { await open(admin, view); noProblems(admin); });
  }

  await check('overview topology shows every node of the mesh, anchors and the Raft leader as the agent reports them', async () => {
    const mesh = ubus('mesh'), raft = ubus('raft');
    await open(admin, 'overview');
    const nodes = await admin.page.$$eval('g.x0-node', (els) => els.map((e) => ({ id: e.dataset.node, role: e.dataset.role, leader: e.dataset.leader === '1' })).sort((a, b) => a.id.localeCompare(b.id)));
    same(nodes.map((n) => n.id), mesh.nodes.map((n) => n.id).sort(), 'nodes');
    same(nodes.filter((n) => n.role === 'anchor').map((n) => n.id), mesh.nodes.filter((n) => n.role === 'anchor').map((n) => n.id).sort(), 'anchors');
    same(nodes.filter((n) => n.leader).map((n) => n.id), raft.leader ? [raft.leader] : [], 'leader');
  });

  await check('overview links are coloured by the lower TQ of their two ends', async () => {
    const mesh = ubus('mesh');
    const want = {};
    for (const n of mesh.nodes) for (const l of n.links ?? []) {
      const key = [n.id, l.to].sort().join('|');
      want[key] = Math.min(want[key] ?? 255, l.tq);
    }
    const band = (tq) => (tq >= 200 ? 'good' : tq >= 120 ? 'fair' : tq >= 60 ? 'poor' : 'bad');
    const links = await admin.page.$$eval('line.x0-link', (els) => els.map((e) => [e.dataset.link, +e.dataset.tq, e.dataset.band]));
    same(links.map((l) => l[0]).sort(), Object.keys(want).sort(), 'links');
    for (const [key, tq, b] of links) { same([key, tq, b], [key, want[key], band(want[key])], 'link TQ and colour'); }
  });

  await check('overview is usable at 375 px: nothing wider than the screen, topology fits', async () => {
    const phone = await session('root', 375);
    try {
      await open(phone, 'overview');
      const m = await phone.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, svg: document.querySelector('svg.x0-topology').getBoundingClientRect().width }));
      expect(m.scroll <= 375, `page is ${m.scroll} px wide`);
      expect(m.svg > 300 && m.svg <= 375, `topology is ${m.svg} px wide`);
      noProblems(phone);
    } finally { await phone.context.close(); }
  });

  await check('nodes table lists every node, sorts by a column and filters', async () => {
    const mesh = ubus('mesh');
    await open(admin, 'nodes');
    const ids = await admin.page.$$eval('table.x0-nodes tr[data-node]', (rows) => rows.map((r) => r.dataset.node));
    same(ids, mesh.nodes.map((n) => n.id).sort(), 'rows sorted by name');
    await admin.page.click('th[data-sort=tq]');
    const tqs = (await text(admin, 'table.x0-nodes td[data-col=tq]')).map((t) => (t === '-' ? 0 : +t));
    same(tqs, [...tqs].sort((a, b) => a - b), 'TQ ascending after one click');
    await admin.page.click('th[data-sort=tq]');
    const tqsDesc = (await text(admin, 'table.x0-nodes td[data-col=tq]')).map((t) => (t === '-' ? 0 : +t));
    same(tqsDesc, [...tqs].sort((a, b) => b - a), 'TQ descending after a second click');
    await admin.page.type('input.x0-filter', 'anchor');
    const filtered = await admin.page.$$eval('table.x0-nodes tr[data-node]', (rows) => rows.map((r) => r.dataset.node).sort());
    same(filtered, mesh.nodes.filter((n) => n.role === 'anchor' || n.id.includes('anchor')).map((n) => n.id).sort(), 'filter "anchor"');
    noProblems(admin);
  });

  await check('consensus shows the agent\'s term, leader, commit/applied index and each member\'s lag', async () => {
    const raft = ubus('raft');
    await open(admin, 'consensus');
    const cards = await admin.page.$$eval('.x0-card', (els) => Object.fromEntries(els.map((e) => [e.dataset.x0, e.querySelector('.x0-value').textContent.trim()])));
    same([cards.term, cards.leader, cards.commit, cards.applied], [String(raft.term), raft.leader || 'none', String(raft.commit_index), String(raft.applied_index)], 'cards');
    const lags = await admin.page.$$eval('tr[data-member]', (rows) => rows.map((r) => [r.dataset.member, +r.dataset.lag]));
    same(lags, raft.members.map((m) => [m.id, m.lag]), 'member lag');
  });

  if (scratch) {
    await check('a node goes down: overview, nodes table and agent state say so', async () => {
      scenario('node-down');
      await open(admin, 'overview');
      const state = await admin.page.$eval('g.x0-node[data-node="node-5"]', (e) => e.dataset.state);
      same(state, 'down', 'node-5 in the topology');
      const agent = await admin.page.$eval('.x0-card[data-x0=state] .x0-value', (e) => e.textContent.trim());
      same(agent, 'degraded', 'agent state card');
      expect(!(await admin.page.$('line[data-link*="node-5"]')), 'a link to node-5 is still drawn');
      await open(admin, 'nodes');
      same(await admin.page.$eval('tr[data-node="node-5"]', (e) => e.dataset.health), 'down', 'node-5 health');
      await open(admin, 'healing');
      const incident = await admin.page.$eval('.x0-incident', (e) => e.dataset.state);
      same(incident, 'failed', 'the unreachable node-5 incident');
      noProblems(admin);
    });

    await check('a node is revoked: topology marks it, security lists it and no longer offers to revoke it', async () => {
      scenario('revoked');
      await open(admin, 'overview');
      same(await admin.page.$eval('g.x0-node[data-node="node-6"]', (e) => e.dataset.state), 'revoked', 'node-6 in the topology');
      await open(admin, 'nodes');
      same(await admin.page.$eval('tr[data-node="node-6"]', (e) => e.dataset.health), 'revoked', 'node-6 health');
      await open(admin, 'security');
      same(await admin.page.$$eval('table.x0-revocations tr[data-node]', (r) => r.map((x) => x.dataset.node)), ['node-6'], 'revocation list');
      const offered = await admin.page.$$eval('select.x0-revoke-node option', (o) => o.map((x) => x.value));
      expect(!offered.includes('node-6') && !offered.includes('anchor-1'), `revoke offers ${offered.join(',')}`);
      noProblems(admin);
    });

    await check('an incident is healed: timeline with trace id, all four phases and time to repair', async () => {
      scenario('healed');
      await open(admin, 'healing');
      const inc = await admin.page.$eval(`.x0-incident[data-trace="${healedTraceId}"]`, (e) => ({
        state: e.dataset.state, phases: [...e.querySelectorAll('li')].map((li) => li.dataset.phase),
        ttr: e.querySelector('.x0-ttr')?.textContent.trim(), trace: e.querySelector('.x0-trace')?.textContent.trim(),
      }));
      same(inc, { state: 'healed', phases: ['observation', 'decision', 'action', 'outcome'], ttr: 'time to repair: 4.3 s', trace: healedTraceId }, 'incident');
      noProblems(admin);
    });
  } else {
    for (const name of ['a node goes down', 'a node is revoked', 'an incident is healed']) skip(name, 'needs the scratch provider\'s known mesh states (--scenario-file)');
  }

  await check('self-healing shows one incident per trace id in the agent\'s events', async () => {
    const events = ubus('events', '{"limit":200}').events;
    await open(admin, 'healing');
    const traces = await admin.page.$$eval('.x0-incident', (els) => els.map((e) => e.dataset.trace).sort());
    same(traces, [...new Set(events.filter((e) => e.trace_id).map((e) => e.trace_id))].sort(), 'incidents');
  });

  if (shots) {
    await check(`screenshots of every view at 1280 px and 375 px in ${shots}`, async () => {
      fs.mkdirSync(shots, { recursive: true });
      if (scratch) scenario('healed');
      for (const width of [1280, 375]) {
        const s = await session('root', width);
        try {
          for (const view of views) {
            if (scratch) scenario(view === 'security' ? 'revoked' : view === 'nodes' || view === 'overview' ? 'node-down' : 'healed');
            await open(s, view);
            await s.page.screenshot({ path: path.join(shots, `${view}-${width}.png`), fullPage: true });
          }
          noProblems(s);
        } finally { await s.context.close(); }
      }
    });
  }
  if (scratch) {
    await check('revoke asks for confirmation; Cancel does nothing, Revoke revokes (admin)', async () => {
      scenario('baseline');
      await open(admin, 'security');
      const before = fs.readFileSync(providerLog, 'utf8');
      await admin.page.select('select.x0-revoke-node', 'node-5');
      await admin.page.click('button.x0-revoke-button');
      await admin.page.waitForSelector('button.x0-cancel', { visible: true });
      await admin.page.click('button.x0-cancel');
      await new Promise((r) => setTimeout(r, 500));
      same(fs.readFileSync(providerLog, 'utf8'), before, 'provider log after Cancel');
      await admin.page.click('button.x0-revoke-button');
      await admin.page.waitForSelector('button.x0-confirm', { visible: true });
      await admin.page.click('button.x0-confirm');
      await admin.page.waitForSelector('table.x0-revocations tr[data-node="node-5"]');
      expect(fs.readFileSync(providerLog, 'utf8').includes('"event":"revoked","node":"node-5"'), 'the agent did not get the revoke call');
      same(ubus('mesh').revocations.map((r) => r.id), ['node-5'], 'agent revocation list');
      noProblems(admin);
    });

    await check('issue a join token behind a confirmation and show it (admin)', async () => {
      await open(admin, 'security');
      await admin.page.type('input.x0-token-node', 'node-7');
      await admin.page.click('button.x0-token-button');
      await admin.page.waitForSelector('button.x0-confirm', { visible: true });
      await admin.page.click('button.x0-confirm');
      await admin.page.waitForSelector('textarea.x0-token-value', { visible: true });
      const token = await admin.page.$eval('textarea.x0-token-value', (e) => e.value);
      expect(token.startsWith('x0jt1.node-7.'), `token shown: ${token}`);
      noProblems(admin);
    });
  } else {
    skip('revoke behind a confirmation', 'changes the mesh: only against the scratch provider');
    skip('issue a join token', 'only against the scratch provider');
  }

  await check('settings form checks values with the agent\'s rules (same verdict as src/agent/config.ts)', async () => {
    await open(admin, 'settings');
    const samples = [
      ['listen', '0.0.0.0:7400'], ['listen', 'nohost'], ['listen', '[fe80::1]:7400'], ['listen', '10.0.0.1:70000'],
      ['node_name', 'anchor-1'], ['node_name', '-bad'], ['node_name', 'a'.repeat(64)],
      ['trust_domain', 'mesh.x0'], ['trust_domain', 'Mesh.X0'], ['state_dir', '/etc/x0tta6bl4'], ['state_dir', 'relative/dir'],
      ['mesh_interface', 'bat0'], ['mesh_interface', 'a-very-long-interface0'], ['log_level', 'warn'], ['log_level', 'verbose'],
      ['join_token', 'x0jt1.abc_DEF-1'], ['join_token', 'secret'], ['anchor', 'anchor-1@10.0.0.1:7400'], ['anchor', 'anchor-1:7400'],
      ['static_peer', 'p@host.lan:1'], ['static_peer', 'p@:1'],
      ['topic_prefix', 'x0/site-1'], ['topic_prefix', 'x0/#'], ['interval', '10s'], ['interval', '500ms'], ['interval', '2h'], ['interval', '5m'],
      ['qos', '1'], ['qos', '2'], ['protocol', '5'], ['protocol', '3'], ['broker', 'mqtt.lan:1883'], ['broker', 'mqtt.lan'],
      ['interface', 'eth1'], ['interface', 'eth 1'],
    ];
    const page = await admin.page.evaluate((samples) => L.require('x0tta6bl4.validate').then((v) => samples.map(([o, x]) => v.check(o, x) === true)), samples);
    const section = { listen: 'main', node_name: 'main', trust_domain: 'main', state_dir: 'main', mesh_interface: 'main', log_level: 'main', join_token: 'main', anchor: 'main', static_peer: 'main' };
    const disagree = [];
    samples.forEach(([option, value], i) => {
      const type = section[option] ? 'agent' : option === 'interface' ? 'xdp' : 'uplink';
      const name = type === 'agent' ? 'main' : type;
      const kind = ['anchor', 'static_peer', 'interface'].includes(option) ? 'list' : 'option';
      const role = option === 'anchor' ? 'node' : 'anchor';
      const text = `config agent 'main'\n\toption role '${role}'\n` + (option === 'node_name' ? '' : `\toption node_name 'anchor-1'\n`) +
        (type === 'agent' ? `\t${kind} ${option} '${value}'\n` : `config ${type} '${name}'\n\t${kind} ${option} '${value}'\n`);
      const agentOk = loadConfigText(text, '/etc/config/x0tta6bl4', 'router').ok;
      if (agentOk !== page[i]) disagree.push(`${option}=${JSON.stringify(value)}: form ${page[i] ? 'accepts' : 'refuses'}, agent ${agentOk ? 'accepts' : 'refuses'}`);
    });
    expect(disagree.length === 0, disagree.join('; '));
  });

  await check('settings: a bad value is marked in the form, a good one is saved to /etc/config/x0tta6bl4 through rpcd', async () => {
    await open(admin, 'settings');
    await admin.page.evaluate(() => { [...document.querySelectorAll('.cbi-tabmenu li')].find((li) => /Mesh/.test(li.textContent))?.querySelector('a')?.click(); });
    const listen = 'input[id$=".main.listen"]';
    await admin.page.waitForSelector(listen, { visible: true });
    await admin.page.click(listen, { clickCount: 3 });
    await admin.page.type(listen, 'nohost');
    await admin.page.waitForFunction((sel) => document.querySelector(sel).classList.contains('cbi-input-invalid'), {}, listen);
    await admin.page.click(listen, { clickCount: 3 });
    await admin.page.type(listen, '0.0.0.0:7500');
    await admin.page.waitForFunction((sel) => !document.querySelector(sel).classList.contains('cbi-input-invalid'), {}, listen);
    await admin.page.click('.cbi-page-actions button.cbi-button-save');
    await admin.page.waitForFunction(() => document.querySelector('#modal_overlay') == null || !document.body.classList.contains('modal-overlay-active'));
    await new Promise((r) => setTimeout(r, 500));
    // Save stages the change in rpcd (uci changes); LuCI's apply then commits it. Commit through LuCI's own call.
    await admin.page.evaluate(() => L.require('uci').then((uci) => uci.apply(10)));
    const file = fs.readFileSync(path.join(root, 'etc/config/x0tta6bl4'), 'utf8');
    expect(file.includes("'0.0.0.0:7500'"), `the file does not hold the new listen: ${file.split('\n').filter((l) => l.includes('listen')).join(' ')}`);
    expect(loadConfigText(file, '/etc/config/x0tta6bl4', 'router').ok, 'the agent refuses the saved file');
    admin.problems.splice(0).forEach((p) => expect(!/JS error/.test(p), p));
  });

  await admin.context.close();
}

// ---- as viewer (read-only ACL group) ----
let viewer;
try { viewer = await session('viewer'); ok('viewer (read-only ACL) logs in'); }
catch (err) { notOk('viewer (read-only ACL) logs in', err.message); }
if (viewer) {
  if (scratch) scenario('baseline');
  for (const view of ['overview', 'security', 'settings']) {
    await check(`viewer: ${view} view renders with no JS error or failed request`, async () => { await open(viewer, view); noProblems(viewer); });
  }
  await check('viewer: security view offers no admin action', async () => {
    await open(viewer, 'security');
    expect(!(await viewer.page.$('button.x0-revoke-button, button.x0-token-button')), 'an admin button is shown');
    expect(await viewer.page.$('.x0-no-actions'), 'no explanation shown');
  });
  await check('viewer: rpcd answers "access denied" to reload, revoke and token, and serves the read methods', async () => {
    const answers = await viewer.page.evaluate(async () => {
      const call = async (method, params) => {
        const res = await fetch(L.env.ubuspath, { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'call', params: [L.env.sessionid, 'x0tta6bl4', method, params] }) });
        const body = await res.json();
        return body.error ? body.error.code : body.result[0];
      };
      return {
        reload: await call('reload', {}), revoke: await call('revoke', { node: 'node-4' }), token: await call('token', { node: 'node-9', ttl_s: 3600 }),
        status: await call('status', {}), mesh: await call('mesh', {}),
      };
    });
    same(answers, { reload: -32002, revoke: -32002, token: -32002, status: 0, mesh: 0 }, 'JSON-RPC answers');
    if (providerLog) expect(!fs.readFileSync(providerLog, 'utf8').includes('"node":"node-4"'), 'the agent received a denied call');
  });
  await check('viewer: settings are read-only (no save buttons)', async () => {
    await open(viewer, 'settings');
    const buttons = await viewer.page.$$eval('.cbi-page-actions button', (b) => b.filter((x) => !x.disabled).map((x) => x.textContent.trim()));
    expect(buttons.length === 0, `enabled buttons: ${buttons.join(', ')}`);
  });
  await viewer.context.close();
}

await browser.close();
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
