// The QEMU command line of one lab VM per CPU: the x86-64 router (-M pc, its timer workarounds) and the AArch64
// router of the arm scenario (-M virt -cpu cortex-a53, the PL011 console), with the same virtio devices and links.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Vm, type Arch } from '../../qemu/lib/vm.js';

function args(arch: Arch | undefined): string[] {
  return new Vm({
    node: 2,
    dir: '/tmp/x0-lab-args/node-2',
    kernel: 'vmlinuz',
    initrd: 'initramfs.cpio.gz',
    memMb: 128,
    nics: [{ netdevId: 'l0', mac: '52:54:00:02:00:01', localPort: 40001, remotePort: 40002, peer: 1 }],
    uplinkPort: 1883,
    ...(arch === undefined ? {} : { arch }),
  }).qemuArgs();
}
const after = (a: string[], flag: string): string | undefined => a[a.indexOf(flag) + 1];

test('x86-64 (the default): PC machine, ttyS0, the TCG timer workarounds', () => {
  for (const a of [args(undefined), args('x86_64')]) {
    assert.is(after(a, '-M'), 'pc');
    assert.is(after(a, '-cpu'), 'qemu64');
    assert.match(after(a, '-append') ?? '', /^console=ttyS0 .*no_timer_check clocksource=hpet x0\.node=2 x0\.nics=2$/);
  }
});

test('aarch64: virt board, Cortex-A53, PL011 console, no x86 clock options', () => {
  const a = args('aarch64');
  assert.is(after(a, '-M'), 'virt');
  assert.is(after(a, '-cpu'), 'cortex-a53');
  const append = after(a, '-append') ?? '';
  assert.match(append, /^console=ttyAMA0 .*x0\.node=2 x0\.nics=2$/);
  assert.not.match(append, /hpet|no_timer_check/);
  assert.match(after(a, '-accel') ?? '', /^tcg,/);
});

test('both CPUs get the same devices: virtio-serial control port, uplink and mesh NICs by MAC', () => {
  const devices = (a: string[]) => a.filter((_, i) => a[i - 1] === '-device' || a[i - 1] === '-netdev');
  assert.equal(devices(args('aarch64')), devices(args('x86_64')));
  assert.ok(devices(args('aarch64')).includes('virtio-net-pci,netdev=l0,mac=52:54:00:02:00:01,romfile='));
});

test.run();
