// Limits of the lab runner, each with its unit.
export const limits = {
  nodesMax: 16, // MACs and ports are derived from the node number; 16 VMs is far past what 2 cores boot
  edgesMax: 64,
  memMbMin: 96,
  memMbMax: 512,
  bootTimeoutMs: 120_000, // TCG on a busy 2-core machine: a boot normally takes 10-25 s
  execTimeoutMs: 30_000, // the guest kills a command after this (busybox timeout -s KILL)
  execAnswerGraceMs: 5_000, // then the host waits this much longer for the answer
  tcgTranslationCacheMb: 32, // QEMU's default (1 GiB, grown on demand) made each VM's RSS ~250 MB
  qmpTimeoutMs: 5_000,
  execOutputBytesMax: 256 * 1024,
  pollIntervalMs: 250,
  repeatMax: 50, // lab.ts test --repeat
  impairDelayMsMax: 10_000,
  putFileBytesMax: 1024 * 1024, // Vm.putFile: files the lab writes into a guest (configs, keys, certificates)
  putFileChunkBytes: 3 * 1024, // raw bytes per control-channel line (4 KiB of base64)
} as const;
