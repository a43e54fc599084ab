// Automatic renewal, end to end in simulation (virtual time, the real channel endpoints): a node with a
// short-lived certificate asks the registrar over the sealed channel at half its lifetime, installs the
// new certificate, re-handshakes, and keeps talking after the old certificate expired. Refusals by reason.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { issueNodeCert } from '../../src/core/identity/ca.js';
import { Registrar } from '../../src/core/identity/registrar.js';
import { RenewalClient, RenewalMessage, RenewalService } from '../../src/core/identity/renewal.js';
import { renewalDueAtMs } from '../../src/core/identity/rotation.js';
import { limits } from '../../src/core/identity/limits.js';
import { Net } from '../channel/harness.js';
import { buildWorld, crypto, nodeKeys, nowMs } from './fixtures.js';

const world = buildWorld();
const minuteMs = 60_000;

/** Node A holds a 10-minute certificate from the root; B serves renewals with the anchor's intermediate. */
function setup() {
  const k = nodeKeys(crypto, 160);
  const shortCert = issueNodeCert(crypto, world.root, {
    name: 'a',
    signPublicKey: k.sign.publicKey,
    boxPublicKey: k.box.publicKey,
    nowMs,
    ttlMs: 10 * minuteMs,
  });
  const net = new Net();
  const a = net.add('A', crypto, { ...k, chain: [shortCert] }, world.bundle, { sessionLifetimeMs: 3600_000 });
  const b = net.add('B', crypto, world.b, world.bundle);
  const client = new RenewalClient(crypto, { keys: k, chain: [shortCert] });
  const service = new RenewalService(new Registrar(crypto, world.anchor, world.bundle));
  net.connect('A', 'B');
  return { net, a, b, client, service, shortCert };
}

/** Routes renewal payloads (what the channel node does): B answers requests, A accepts answers. */
function serve(s: ReturnType<typeof setup>, from = 0): number {
  for (const d of s.net.delivered.slice(from)) {
    if (d.at === 'B' && d.data[0] === RenewalMessage.Request) {
      const answer = s.service.handle(d.peerId, d.data, s.net.wallMs);
      const sent = answer === null ? null : s.b.send('A', answer, s.net.now());
      if (sent?.ok) s.net.absorb('B', sent.value);
    }
  }
  return s.net.delivered.length;
}

test('renewal is due at half the lifetime counted from issue, not from the back-dated notBefore', () => {
  const { shortCert } = setup();
  assert.is(renewalDueAtMs(shortCert), nowMs + 5 * minuteMs);
  assert.ok(shortCert.notBeforeMs === nowMs - limits.issueBackdateMs);
});

test('a node renews over the channel at half its lifetime and keeps talking after the old certificate expired', () => {
  const s = setup();
  assert.is(s.client.tick(s.net.wallMs), null, 'not due yet');
  s.net.advance(5 * minuteMs);
  const request = s.client.tick(s.net.wallMs);
  assert.ok(request !== null);
  assert.is(s.client.tick(s.net.wallMs), null, 'one request at a time');
  const sent = s.a.send('B', request, s.net.now());
  assert.ok(sent.ok);
  s.net.absorb('A', sent.value);
  s.net.pump();
  serve(s);
  s.net.pump();
  const answer = s.net.delivered.find((d) => d.at === 'A' && d.data[0] === RenewalMessage.Issued);
  assert.ok(answer !== undefined, 'the registrar answered with a chain');
  const renewed = s.client.accept(answer.data, world.bundle, s.net.wallMs);
  assert.ok(renewed.ok);
  assert.is(renewed.value.chain[0]!.subject, 'spiffe://mesh.example/node/a');
  assert.is(renewed.value.chain.length, 2, 'issued by the anchor: leaf and intermediate');
  assert.not.equal(renewed.value.keys.sign.publicKey, s.shortCert.signPublicKey);
  assert.is(s.client.tick(s.net.wallMs), null, 'the new certificate is not due yet');
  s.a.setTrust({ identity: { chain: renewed.value.chain, signSecretKey: renewed.value.keys.sign.secretKey } });
  s.net.absorb('A', s.a.refresh(s.net.now()));
  s.net.pump();
  assert.is(
    s.b.peers()[0]!.expiresAtMs,
    renewed.value.chain[0]!.notAfterMs,
    'B now holds a session with the new certificate',
  );
  s.net.advance(6 * minuteMs); // past the old certificate's expiry
  assert.ok(s.net.send('A', 'B', 'still here'));
  s.net.pump();
  assert.is(s.net.texts('B').at(-1), 'still here');
  assert.not.ok(s.net.events.some((e) => e.type === 'closed' && e.reason === 'cert-expired'));
  assert.is(s.client.counters.get('renewed'), 1);
});

test('refusals: a request relayed by another peer, an answer nobody asked for, a chain with other keys', () => {
  const s = setup();
  s.net.advance(5 * minuteMs);
  const request = s.client.tick(s.net.wallMs)!;
  const relayed = s.service.handle('spiffe://mesh.example/node/b', request, s.net.wallMs);
  assert.equal(new TextDecoder().decode(relayed!.subarray(1)), 'renewal-not-the-peer');
  assert.is(
    s.service.handle('spiffe://mesh.example/node/a', Uint8Array.from([0, 1, 2]), s.net.wallMs),
    null,
    'not a renewal message',
  );
  const garbage = s.service.handle(
    'spiffe://mesh.example/node/a',
    Uint8Array.from([RenewalMessage.Request, 1, 2]),
    s.net.wallMs,
  );
  assert.equal(new TextDecoder().decode(garbage!.subarray(1)), 'renew-malformed');
  const fresh = new RenewalClient(crypto, s.client.identity);
  const answer = s.service.handle('spiffe://mesh.example/node/a', request, s.net.wallMs)!;
  assert.equal(fresh.accept(answer, world.bundle, s.net.wallMs), { ok: false, reason: 'renewal-unexpected' });
  fresh.tick(s.net.wallMs); // fresh asks with keys of its own: the chain made for s.client's keys does not fit
  assert.equal(fresh.accept(answer, world.bundle, s.net.wallMs), { ok: false, reason: 'renewal-wrong-key' });
  assert.equal(s.client.accept(Uint8Array.from([RenewalMessage.Refused, 120]), world.bundle, s.net.wallMs), {
    ok: false,
    reason: 'renewal-refused',
  });
  assert.equal(s.client.accept(Uint8Array.from([RenewalMessage.Issued, 0xff]), world.bundle, s.net.wallMs), {
    ok: false,
    reason: 'renewal-malformed',
  });
  assert.ok(s.client.accept(answer, world.bundle, s.net.wallMs).ok, 'the right answer still works after refusals');
});

test('an unanswered request is retried with a bounded, growing backoff', () => {
  const s = setup();
  s.net.advance(5 * minuteMs);
  const times: number[] = [];
  for (let t = s.net.wallMs; t < s.net.wallMs + 3600_000; t += 1000)
    if (s.client.tick(t) !== null) times.push(t - s.net.wallMs);
  assert.equal(times.slice(0, 4), [0, limits.renewRetryMs, 3 * limits.renewRetryMs, 7 * limits.renewRetryMs]);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(Math.max(...gaps) <= limits.renewRetryMsMax);
});

test.run();
