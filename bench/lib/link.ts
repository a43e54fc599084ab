// Sealed link vs plain UDP on one platform (engine-neutral: run on Node and, bundled, inside x0-runtime): two
// nodes on loopback, one sending to the other as fast as the receiver keeps up (a window of messages in flight,
// each acknowledged), for a Raft-sized (200 B), a gossip-sized (1,100 B) and a fragmented (8 KB) message.
// Figures: messages/s each way of sending, the ratio sealed/plain, and the bytes a message costs on the wire.
import { overLink } from '../../src/agent/components/link.js';
import type { Certificate } from '../../src/core/identity/cert.js';
import { SealedLink } from '../../src/channel/link.js';
import { RaftServer } from '../../src/raft/server.js';
import { GossipNode } from '../../src/gossip/node.js';
import { limits as gossipLimits } from '../../src/core/gossip/limits.js';
import { noRevocationAuthority } from '../../src/gossip/identity-revocations.js';
import { identityWriters } from '../../src/gossip/identity-writers.js';
import { attest, verifyAttestation, type WriterAuth } from '../../src/core/gossip/writer.js';
import { createRoot, issueNodeCert } from '../../src/core/identity/ca.js';
import { createTrustBundle, noRevocations } from '../../src/core/identity/chain.js';
import type { HostPort, Platform, UdpHandlers, UdpSocket } from '../../src/platform/types.js';

/** Raft commits/s with the voters' messages over plain UDP vs over sealed links, in the same run. */
export interface RaftLinkFigure {
  readonly voters: number;
  readonly inFlight: number;
  readonly plainCommitsPerSec: number;
  readonly sealedCommitsPerSec: number;
  readonly ratio: number;
}

export interface LinkFigure {
  readonly bytes: number;
  readonly plainPerSec: number;
  readonly sealedPerSec: number;
  readonly ratio: number;
  readonly wireBytesPlain: number;
  readonly wireBytesSealed: number;
}

type Bind = (local: HostPort, handlers: UdpHandlers) => Promise<UdpSocket>;

async function pump(
  platform: Platform,
  bindA: Bind,
  bindB: Bind,
  portA: number,
  portB: number,
  size: number,
  count: number,
): Promise<number> {
  const window = 32;
  let received = 0;
  let acked = 0;
  let sent = 0;
  let warm = false;
  let timing = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const a: UdpSocket = await bindA(
    { host: '127.0.0.1', port: portA },
    {
      onMessage: () => {
        warm = true;
        if (!timing) return;
        acked++;
        if (acked >= count) return done();
        while (sent < count && sent - acked < window) {
          a.send(payload, { host: '127.0.0.1', port: portB });
          sent++;
        }
      },
    },
  );
  const b: UdpSocket = await bindB(
    { host: '127.0.0.1', port: portB },
    {
      onMessage: (_data, from) => {
        received++;
        b.send(ack, from);
      },
    },
  );
  const payload = new Uint8Array(size).fill(7);
  const ack = new Uint8Array([1]);
  // Warm-up (not timed): the first message waits for the handshake on the sealed link.
  while (!warm) {
    a.send(payload, { host: '127.0.0.1', port: portB });
    await new Promise<void>((r) => {
      platform.setTimer(100, r);
    });
  }
  await new Promise<void>((r) => {
    platform.setTimer(100, r);
  }); // late warm-up answers drain, uncounted
  timing = true;
  const start = platform.monotonicMs();
  const fill = () => {
    while (sent < count && sent - acked < window) {
      a.send(payload, { host: '127.0.0.1', port: portB });
      sent++;
    }
  };
  fill();
  // Datagrams lost (a full queue, a full socket buffer) are counted as lost after 200 ms without progress, and
  // the window is sent again: the run measures what gets through, and never stalls.
  let last = -1;
  const watchdog = () => {
    if (acked >= count) return;
    if (acked === last) {
      sent = acked;
      fill();
    }
    last = acked;
    platform.setTimer(200, watchdog);
  };
  platform.setTimer(200, watchdog);
  await finished;
  const ms = platform.monotonicMs() - start;
  a.close();
  b.close();
  void received;
  return (count / ms) * 1000;
}

export async function linkSuite(platform: Platform, basePort: number, count: number): Promise<LinkFigure[]> {
  const crypto = platform.crypto;
  const now = platform.wallClockMs();
  const root = createRoot(crypto, { trustDomain: 'bench.x0', nowMs: now });
  const bundle = createTrustBundle(crypto, 'bench.x0', [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const node = (name: string) => {
    const sign = crypto.signKeyPair();
    const box = crypto.boxKeyPair();
    return {
      sign,
      chain: [
        issueNodeCert(crypto, root.issuer, {
          name,
          signPublicKey: sign.publicKey,
          boxPublicKey: box.publicKey,
          nowMs: now,
        }),
      ],
    };
  };
  const [na, nb] = [node('a'), node('b')];
  const figures: LinkFigure[] = [];
  let port = basePort;
  for (const size of [200, 1100, 8000]) {
    const plain = await pump(
      platform,
      (l, h) => platform.net.udpBind(l, h),
      (l, h) => platform.net.udpBind(l, h),
      port,
      port + 1,
      size,
      count,
    );
    port += 2;
    const [la, lb] = [port, port + 1];
    const peer = (name: string, p: number) => ({
      name,
      link: { host: '127.0.0.1', port: p },
      services: { gossip: { host: '127.0.0.1', port: p + 100 }, raft: { host: '127.0.0.1', port: p + 200 } },
    });
    const linkA = await SealedLink.open(platform, {
      listen: { host: '127.0.0.1', port: la },
      chain: na.chain,
      signSecretKey: na.sign.secretKey,
      bundle: bundle.value,
      revocations: noRevocations,
      peers: [peer('b', lb)],
      allow: () => true,
    });
    const linkB = await SealedLink.open(platform, {
      listen: { host: '127.0.0.1', port: lb },
      chain: nb.chain,
      signSecretKey: nb.sign.secretKey,
      bundle: bundle.value,
      revocations: noRevocations,
      peers: [peer('a', la)],
      allow: () => true,
    });
    // a sends on 'raft' to b's raft address; b answers on 'raft' to the sender it is told (a's raft address).
    const sealed = await pump(
      platform,
      async (_l, h) => linkA.socket('raft', h, { host: '127.0.0.1', port: la + 200 }),
      async (_l, h) => linkB.socket('raft', h, { host: '127.0.0.1', port: lb + 200 }),
      la + 200,
      lb + 200,
      size,
      count,
    );
    linkA.close();
    linkB.close();
    port += 2;
    const fragments = Math.ceil(size / (1440 - 5));
    // Per datagram: data header 15 + kind 1 + tag 16 (the channel) + fragment header 5 (the link).
    figures.push({
      bytes: size,
      plainPerSec: plain,
      sealedPerSec: sealed,
      ratio: sealed / plain,
      wireBytesPlain: size,
      wireBytesSealed: size + fragments * (15 + 1 + 16 + 5),
    });
  }
  return figures;
}

type Credentials = { sign: { secretKey: Uint8Array }; chain: Certificate[] };

function mesh(platform: Platform, names: readonly string[]) {
  const crypto = platform.crypto;
  const now = platform.wallClockMs();
  const root = createRoot(crypto, { trustDomain: 'bench.x0', nowMs: now });
  const bundle = createTrustBundle(crypto, 'bench.x0', [root.issuer.cert]);
  if (!bundle.ok) throw new Error(bundle.reason);
  const nodes = new Map<string, Credentials>();
  for (const name of names) {
    const sign = crypto.signKeyPair();
    const box = crypto.boxKeyPair();
    const cert = issueNodeCert(crypto, root.issuer, {
      name,
      signPublicKey: sign.publicKey,
      boxPublicKey: box.publicKey,
      nowMs: now,
    });
    nodes.set(name, { sign, chain: [cert] });
  }
  return { bundle: bundle.value, nodes };
}

function writerAuth(platform: Platform, m: ReturnType<typeof mesh>, name: string): WriterAuth {
  const own = m.nodes.get(name) as Credentials;
  const auth = identityWriters(
    platform.crypto,
    { chain: own.chain, signSecretKey: own.sign.secretKey, bundle: m.bundle },
    () => platform.wallClockMs(),
  );
  if (!auth.ok) throw new Error(auth.reason);
  return auth.value;
}

/** Node `i`'s sealed link to the others of `names`: link ports and each service's port per node. */
function openLink(
  platform: Platform,
  m: ReturnType<typeof mesh>,
  names: readonly string[],
  i: number,
  ports: { readonly link: readonly number[]; readonly gossip: readonly number[]; readonly raft: readonly number[] },
): Promise<SealedLink> {
  const name = names[i] as string;
  const own = m.nodes.get(name) as Credentials;
  const at = (port: number | undefined) => ({ host: '127.0.0.1', port: port as number });
  return SealedLink.open(platform, {
    listen: at(ports.link[i]),
    chain: own.chain,
    signSecretKey: own.sign.secretKey,
    bundle: m.bundle,
    revocations: noRevocations,
    peers: names
      .map((peer, j) => ({
        name: peer,
        link: at(ports.link[j]),
        services: { gossip: at(ports.gossip[j]), raft: at(ports.raft[j]) },
      }))
      .filter((p) => p.name !== name),
    allow: () => true,
  });
}

/**
 * Committed writes per second through a 3-voter Raft cluster in this process, the leader taking `inFlight`
 * concurrent writes (submitLocal, as the agent's registrar does): the voters' messages over plain UDP, then over
 * one sealed link per voter (as in the agent). Each write is durable (WAL append + fsync) on a quorum.
 */
async function raftCommitsPerSec(
  platform: Platform,
  platforms: readonly Platform[],
  ports: readonly number[],
  dataRoot: string,
  writes: number,
  inFlight: number,
): Promise<number> {
  const peers = new Map(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }] as const));
  const servers: RaftServer[] = [];
  for (let i = 0; i < ports.length; i++) {
    const started = await RaftServer.start(platforms[i] as Platform, {
      id: i + 1,
      peers,
      dataDir: `${dataRoot}/${i + 1}`,
      tickMs: 50,
      electionTicks: 10,
      heartbeatTicks: 1,
    });
    if (!started.ok) throw new Error(`raft ${i + 1}: ${started.reason} ${started.detail}`);
    servers.push(started.value);
  }
  const sleep = (ms: number) => new Promise<void>((r) => platform.setTimer(ms, r));
  let leader: RaftServer | undefined;
  for (let i = 0; i < 200 && leader === undefined; i++) {
    leader = servers.find((s) => s.status().role === 'leader');
    if (leader === undefined) await sleep(50);
  }
  if (leader === undefined) throw new Error('no Raft leader within 10 s');
  const write = (seq: number) =>
    (leader as RaftServer).submitLocal({
      op: 'write',
      client: 7,
      seq,
      command: { op: 'put', key: `bench/${seq % 64}`, value: 'v'.repeat(64) },
    });
  for (let seq = 1; seq <= 20; seq++) await write(seq); // warm-up: sessions, first appends
  let next = 21;
  let done = 0;
  let failed = 0;
  const start = platform.monotonicMs();
  const worker = async () => {
    while (next < 21 + writes) {
      const reply = await write(next++);
      if (reply === null || !reply.ok) failed++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const ms = platform.monotonicMs() - start;
  for (const s of servers) s.stop();
  if (failed > 0) throw new Error(`${failed} of ${done} writes failed`);
  return (done / ms) * 1000;
}

/** Raft commits/s, plain vs sealed, in one run (issue 15: "Raft commits/s through sealed links vs plain"). */
export async function raftLinkSuite(
  platform: Platform,
  basePort: number,
  dataRoot: string,
  writes: number,
): Promise<RaftLinkFigure[]> {
  const names = ['a1', 'a2', 'a3'];
  const m = mesh(platform, names);
  const figures: RaftLinkFigure[] = [];
  let port = basePort;
  for (const inFlight of [1, 32]) {
    const plainPorts = names.map((_, i) => port + i);
    const plain = await raftCommitsPerSec(
      platform,
      names.map(() => platform),
      plainPorts,
      `${dataRoot}/plain-${inFlight}`,
      writes,
      inFlight,
    );
    port += 10;
    const linkPorts = names.map((_, i) => port + i);
    const raftPorts = linkPorts.map((p) => p + 1000);
    const ports = { link: linkPorts, gossip: linkPorts.map((p) => p + 2000), raft: raftPorts };
    const links: SealedLink[] = [];
    for (let i = 0; i < names.length; i++) links.push(await openLink(platform, m, names, i, ports));
    const sealed = await raftCommitsPerSec(
      platform,
      links.map((l) => overLink(platform, l, 'raft')),
      raftPorts,
      `${dataRoot}/sealed-${inFlight}`,
      writes,
      inFlight,
    );
    for (const l of links) l.close();
    port += 10;
    figures.push({
      voters: names.length,
      inFlight,
      plainCommitsPerSec: plain,
      sealedCommitsPerSec: sealed,
      ratio: sealed / plain,
    });
  }
  return figures;
}

/** Gossip bytes per round, plain vs sealed: what 3 nodes send, counted at the UDP socket (datagram payloads). */
export interface GossipLinkFigure {
  readonly nodes: number;
  readonly rounds: number;
  readonly plainBytesPerRound: number;
  readonly sealedBytesPerRound: number;
  readonly plainDatagramsPerRound: number;
  readonly sealedDatagramsPerRound: number;
  /** Sealed and every section signed by its writer (the agent's configuration, gossip.md "Writers"). */
  readonly signedBytesPerRound: number;
  readonly signedDatagramsPerRound: number;
  /** One writer attestation (sign) and one check (verify), microseconds each, on this engine. */
  readonly attestUs: number;
  readonly verifyUs: number;
}

/** A platform whose UDP sockets count what they send (bytes and datagrams) into `tally`. */
function counting(platform: Platform, tally: { bytes: number; datagrams: number }): Platform {
  return {
    ...platform,
    net: {
      ...platform.net,
      udpBind: async (local, handlers) => {
        const socket = await platform.net.udpBind(local, handlers);
        return {
          local: socket.local,
          send: (data, to) => {
            tally.bytes += data.length;
            tally.datagrams++;
            return socket.send(data, to);
          },
          close: () => socket.close(),
        };
      },
    },
  };
}

async function gossipRounds(
  platform: Platform,
  names: readonly string[],
  nodePlatform: (i: number) => Promise<Platform>,
  ports: readonly number[],
  tally: { bytes: number; datagrams: number },
  rounds: number,
  tickMs: number,
  writers?: (i: number) => WriterAuth,
): Promise<number> {
  const nodes: GossipNode[] = [];
  for (const [i, name] of names.entries())
    nodes.push(
      await GossipNode.open(await nodePlatform(i), {
        ...(writers === undefined ? {} : { writers: writers(i) }),
        nodeId: name,
        listen: { host: '127.0.0.1', port: ports[i] as number },
        peers: names
          .map((peer, j) => ({ name: peer, address: { host: '127.0.0.1', port: ports[j] as number } }))
          .filter((p) => p.name !== name),
        stateDir: null,
        revocationCheck: noRevocationAuthority,
        tickMs,
      }),
    );
  const sleep = (ms: number) => new Promise<void>((r) => platform.setTimer(ms, r));
  for (const n of nodes) n.setVersion('agent', 'bench');
  for (let i = 0; i < 100 && !nodes.every((n) => n.isSynced()); i++) await sleep(tickMs * 10);
  tally.bytes = 0;
  tally.datagrams = 0;
  const roundMs = tickMs * gossipLimits.roundTicks;
  // Each node changes one counter per round: the steady state of a mesh whose nodes report.
  for (let r = 0; r < rounds; r++) {
    for (const n of nodes) n.addToCounter('bench', 1);
    await sleep(roundMs);
  }
  for (const n of nodes) n.close();
  return rounds;
}

export async function gossipLinkSuite(platform: Platform, basePort: number, rounds: number): Promise<GossipLinkFigure> {
  const names = ['g1', 'g2', 'g3'];
  const tickMs = 20;
  const plainTally = { bytes: 0, datagrams: 0 };
  const plainPorts = names.map((_, i) => basePort + i);
  await gossipRounds(
    platform,
    names,
    async () => counting(platform, plainTally),
    plainPorts,
    plainTally,
    rounds,
    tickMs,
  );
  const plain = { ...plainTally };
  const m = mesh(platform, names);
  const sealedTally = { bytes: 0, datagrams: 0 };
  const linkPorts = names.map((_, i) => basePort + 10 + i);
  const gossipPorts = linkPorts.map((p) => p + 1000);
  const links: SealedLink[] = [];
  const ports = { link: linkPorts, gossip: gossipPorts, raft: linkPorts.map((p) => p + 2000) };
  const open = async (i: number) => {
    const link = await openLink(counting(platform, sealedTally), m, names, i, ports);
    links.push(link);
    return overLink(platform, link, 'gossip');
  };
  await gossipRounds(platform, names, open, gossipPorts, sealedTally, rounds, tickMs);
  for (const l of links.splice(0)) l.close();
  // The same, with every section signed by its writer.
  const signedTally = { bytes: 0, datagrams: 0 };
  const signedPorts = {
    link: linkPorts.map((p) => p + 20),
    gossip: gossipPorts.map((p) => p + 20),
    raft: ports.raft.map((p) => p + 20),
  };
  const openSigned = async (i: number) => {
    const link = await openLink(counting(platform, signedTally), m, names, i, signedPorts);
    links.push(link);
    return overLink(platform, link, 'gossip');
  };
  const auth = (i: number) => writerAuth(platform, m, names[i] as string);
  await gossipRounds(platform, names, openSigned, signedPorts.gossip, signedTally, rounds, tickMs, auth);
  for (const l of links) l.close();
  // Sign and verify one attestation, as a write and an accepted delta do.
  const w = auth(0);
  const key = (m.nodes.get(names[0] as string)?.chain[0] as Certificate).signPublicKey;
  const section = new Uint8Array(300).fill(7);
  const n = 50;
  let t0 = platform.monotonicMs();
  const atts = Array.from({ length: n }, (_, k) => attest(w, 'g1~1', k + 1, section, section.subarray(0, 40)));
  const attestUs = ((platform.monotonicMs() - t0) * 1000) / n;
  t0 = platform.monotonicMs();
  for (const a of atts)
    if (!verifyAttestation(w, 'g1~1', a, key)) throw new Error('bench: attestation does not verify');
  const verifyUs = ((platform.monotonicMs() - t0) * 1000) / n;
  return {
    signedBytesPerRound: signedTally.bytes / rounds,
    signedDatagramsPerRound: signedTally.datagrams / rounds,
    attestUs,
    verifyUs,
    nodes: names.length,
    rounds,
    plainBytesPerRound: plain.bytes / rounds,
    sealedBytesPerRound: sealedTally.bytes / rounds,
    plainDatagramsPerRound: plain.datagrams / rounds,
    sealedDatagramsPerRound: sealedTally.datagrams / rounds,
  };
}
