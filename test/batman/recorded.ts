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
