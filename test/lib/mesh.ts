// A mesh router's UCI file, as the main job (scripts/demo.ts) and the runbook tests (test/operations) write it for
// agents on loopback: one node's `agent` section (its anchors and static peers by NAME@127.0.0.1:PORT) and, with a
// broker, its `uplink` section. Every option: docs/config.md.

export interface MeshNode {
  readonly name: string;
  readonly role: 'anchor' | 'node';
  readonly port: number;
}

export interface UciOptions {
  readonly node: MeshNode;
  readonly anchors: readonly MeshNode[];
  /** The other plain nodes this one talks to directly (static_peer). */
  readonly staticPeers: readonly MeshNode[];
  readonly stateDir: string;
  readonly ubusSocket: string;
  readonly trustDomain: string;
  readonly joinToken: string | null;
  /** HOST:PORT of the MQTT broker, or null: no uplink section. */
  readonly broker: string | null;
  readonly interval?: string;
  readonly header?: string;
  /** Self-healing probes the configured peers (`config mapek`, option `probe_peers`): no batman-adv on loopback. */
  readonly probePeers?: boolean;
  /** `false`: self-healing off (`config mapek`, option `enabled '0'`), for a control run. */
  readonly selfHealing?: boolean;
}

export function meshUci(o: UciOptions): string {
  const list = (name: string, peers: readonly MeshNode[]) =>
    peers.map((p) => `\tlist ${name} '${p.name}@127.0.0.1:${p.port}'\n`).join('');
  const uplink =
    o.broker === null
      ? ''
      : `
config uplink 'uplink'
\toption enabled '1'
\toption broker '${o.broker}'
\toption interval '${o.interval ?? '2s'}'
\toption protocol '3.1.1'
`;
  return `# ${o.node.name}: ${o.header ?? 'written for agents on loopback'} (every option: docs/config.md)
config agent 'main'
\toption node_name '${o.node.name}'
\toption role '${o.node.role}'
\toption state_dir '${o.stateDir}'
\toption trust_domain '${o.trustDomain}'
${o.joinToken === null ? '' : `\toption join_token '${o.joinToken}'\n`}\toption listen '127.0.0.1:${o.node.port}'
\toption ubus_socket '${o.ubusSocket}'
${list('anchor', o.anchors)}${list('static_peer', o.staticPeers)}\toption log_level 'info'
${uplink}${o.probePeers === true || o.selfHealing === false ? "\nconfig mapek 'mapek'\n" : ''}${o.probePeers === true ? "\toption probe_peers '1'\n" : ''}${o.selfHealing === false ? "\toption enabled '0'\n" : ''}`;
}
