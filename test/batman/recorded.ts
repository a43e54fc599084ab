// batctl's answers recorded from the QEMU lab's guests (batctl debian-2023.0-1, batman-adv 2022.3 in Debian's
// 6.1 kernel, BATMAN_IV), node 1 of a 3-node line, 2026-11-29: `npm run lab -- --nodes 3` and the commands
// below. The fake exec in batctl.test.ts replays exactly these bytes and exit codes; the lab's smoke scenario
// runs the same reader against the real batctl.

/** `batctl meshif bat0 neighbors -H` (exit 0). */
export const neighboursTable = '         eth1\t  52:54:00:02:00:01    0.972s\n';

/** `batctl meshif bat0 originators` (exit 0): node 3 is reached through node 2. */
export const originatorsTable = `[B.A.T.M.A.N. adv 2022.3, MainIF/MAC: eth1/52:54:00:01:00:01 (bat0/06:ff:f8:34:e3:6a BATMAN_IV)]
   Originator        last-seen (#/255) Nexthop           [outgoingIF]
 * 52:54:00:02:00:01    0.848s   ( 55) 52:54:00:02:00:01 [      eth1]
 * 52:54:00:03:01:01    0.892s   (  6) 52:54:00:02:00:01 [      eth1]
`;

/** `batctl meshif bat9 neighbors -H`: on stderr, exit 1 (also after `rmmod batman-adv` for bat0). */
export const absentStderr = 'Error - interface bat9 is not present or not a batman-adv interface\n';
export const absentExitCode = 1;

/** Right after boot, before the first OGM: the header and no rows (exit 0). */
export const originatorsEmpty = `[B.A.T.M.A.N. adv 2022.3, MainIF/MAC: eth1/52:54:00:01:00:01 (bat0/aa:60:bb:64:63:df BATMAN_IV)]
   Originator        last-seen (#/255) Nexthop           [outgoingIF]
`;

// A ring of 5 (1-2, 2-3, 3-4, 4-5, 1-5), recorded 2026-12-06 with `npm run lab -- --nodes 5 --topology ring` about
// 80 s after the routers were ready (same image: batctl 2023.0, batman-adv 2022.3). Node N's NIC on link L has MAC
// 52:54:00:NN:LL:01; its primary interface is eth1 (its first link). Each node's secondary interface sends its own
// OGMs with TTL 2, so a node sees its direct neighbours' secondary MACs as originators, and the others' primaries.

/** Node 1: `batctl meshif bat0 originators` (exit 0). */
export const ring5Node1Originators = `[B.A.T.M.A.N. adv 2022.3, MainIF/MAC: eth1/52:54:00:01:00:01 (bat0/02:8f:42:52:26:61 BATMAN_IV)]
   Originator        last-seen (#/255) Nexthop           [outgoingIF]
   52:54:00:04:02:01    0.352s   (198) 52:54:00:02:00:01 [      eth1]
 * 52:54:00:04:02:01    0.352s   (225) 52:54:00:05:04:01 [      eth2]
 * 52:54:00:05:03:01    0.012s   (251) 52:54:00:05:04:01 [      eth2]
 * 52:54:00:05:04:01    0.416s   (255) 52:54:00:05:04:01 [      eth2]
 * 52:54:00:02:00:01    0.012s   (251) 52:54:00:02:00:01 [      eth1]
   52:54:00:03:01:01    0.012s   (198) 52:54:00:05:04:01 [      eth2]
 * 52:54:00:03:01:01    0.012s   (217) 52:54:00:02:00:01 [      eth1]
`;

/** Node 1: `batctl meshif bat0 neighbors -H` (exit 0). */
export const ring5Node1Neighbours =
  '         eth1\t  52:54:00:02:00:01    0.568s\n         eth2\t  52:54:00:05:04:01    0.932s\n';

/** Node 1: `ls /sys/class/net/bat0/` (what platform.files.list returns, sorted), and each lower_IF's `address`. */
export const ring5Node1SysBat0 = [
  'addr_assign_type',
  'addr_len',
  'address',
  'broadcast',
  'carrier',
  'carrier_changes',
  'carrier_down_count',
  'carrier_up_count',
  'dev_id',
  'dev_port',
  'dormant',
  'duplex',
  'flags',
  'gro_flush_timeout',
  'ifalias',
  'ifindex',
  'iflink',
  'link_mode',
  'lower_eth1',
  'lower_eth2',
  'mtu',
  'name_assign_type',
  'napi_defer_hard_irqs',
  'netdev_group',
  'operstate',
  'phys_port_id',
  'phys_port_name',
  'phys_switch_id',
  'power',
  'proto_down',
  'queues',
  'speed',
  'statistics',
  'subsystem',
  'testing',
  'threaded',
  'tx_queue_len',
  'type',
  'uevent',
];
export const ring5Node1Addresses: Record<string, string> = {
  '/sys/class/net/eth1/address': '52:54:00:01:00:01\n',
  '/sys/class/net/eth2/address': '52:54:00:01:04:01\n',
};

/** Node 5: `batctl meshif bat0 originators` (exit 0); its interfaces are eth1 52:54:00:05:03:01, eth2 52:54:00:05:04:01. */
export const ring5Node5Originators = `[B.A.T.M.A.N. adv 2022.3, MainIF/MAC: eth1/52:54:00:05:03:01 (bat0/86:14:c8:15:05:37 BATMAN_IV)]
   Originator        last-seen (#/255) Nexthop           [outgoingIF]
 * 52:54:00:04:02:01    0.676s   (255) 52:54:00:04:03:01 [      eth1]
 * 52:54:00:01:04:01    0.064s   (255) 52:54:00:01:04:01 [      eth2]
   52:54:00:02:00:01    0.024s   (198) 52:54:00:04:03:01 [      eth1]
 * 52:54:00:02:00:01    0.024s   (221) 52:54:00:01:04:01 [      eth2]
 * 52:54:00:01:00:01    0.156s   (255) 52:54:00:01:04:01 [      eth2]
 * 52:54:00:04:03:01    0.868s   (255) 52:54:00:04:03:01 [      eth1]
   52:54:00:03:01:01    0.044s   (192) 52:54:00:01:04:01 [      eth2]
 * 52:54:00:03:01:01    0.044s   (225) 52:54:00:04:03:01 [      eth1]
`;

/** Node 5: `batctl meshif bat0 neighbors -H` (exit 0). */
export const ring5Node5Neighbours =
  '         eth1\t  52:54:00:04:03:01    1.016s\n         eth2\t  52:54:00:01:04:01    0.212s\n';
