// A process that holds a network and mount namespace of its own for an XDP test: its own bpffs, IPv6 off (no
// stray router solicitations in the counts), and a veth pair va <-> vb, both up. Commands run inside it through
// `enter` (nsenter into the holder's namespaces); killing the holder ends them.
import { spawn, type ChildProcess } from 'node:child_process';

export interface NamespaceHolder {
  readonly child: ChildProcess;
  /** argv prefix that runs a command inside the namespaces. */
  readonly enter: string[];
}

export function startNamespaceHolder(holdS: number): Promise<NamespaceHolder> {
  const setup = `mount -t bpf bpf /sys/fs/bpf &&
  sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
  ip link add va type veth peer name vb && ip link set va up && ip link set vb up && echo ready && exec sleep ${holdS}`;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--net', '--propagation', 'private', 'sh', '-c', setup], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const enter = ['nsenter', '-t', String(child.pid), '-m', '-n'];
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.on('data', (chunk) => {
      if (String(chunk).includes('ready')) resolve({ child, enter });
    });
    child.on('exit', (code) => reject(new Error(`namespace holder exited ${code}: ${stderr}`)));
  });
}
