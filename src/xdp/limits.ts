// Every limit of the XDP binding, with its unit. The map sizes mirror bpf/x0_xdp.h (the helper enforces them;
// the binding uses them to bound what it accepts from the helper). Checked once by validateLimits().

/** Where the router image and the ipk install the helper. */
export const helperPathDefault = '/usr/sbin/x0-xdp';
/** The helper waits up to 5 s for another x0-xdp's lock; loading the program takes well under 1 s. */
export const helperLockWaitMs = 5_000;
export const helperTimeoutMs = 15_000;
/** stdout/stderr kept from one helper run: a full blocklist in `status` is ~4096 × 110 bytes. */
export const helperOutputBytesMax = 1_048_576;
/** Verifier log kept in a failure (the helper prints up to 1 MiB; the first part names the fault). */
export const verifierLogCharsMax = 16_384;
/** Message kept from a helper failure. */
export const messageCharsMax = 1_024;

/** bpf/x0_xdp.h: X0_COUNTERS_MAX, X0_BLOCKLIST_MAX, X0_RULES_MAX, X0_REASON_BYTES - 1. */
export const sourcesMax = 1_024;
export const blocklistMax = 4_096;
export const rulesMax = 4;
export const reasonCharsMax = 15;
/** Link pins the helper examines in its pin directory. */
export const interfacesMax = 256;
/** x0-xdp: TTL_SECONDS_MAX, RATE_PPS_MAX, BURST_MAX. */
export const ttlSecondsMax = 31_536_000;
export const ratePpsMax = 10_000_000;
export const burstMax = 1_000_000;
/** MACs in one `x0-xdp block` run (its ARGS_POSITIONAL_MAX). */
export const blockMacsMax = 64;
/** x0-xdp serve: bytes in one command line (its SERVE_LINE_MAX; 64 MACs and options take about 1.3 KiB). */
export const sessionLineBytesMax = 4_096;
/** x0-xdp serve: requests waiting for the helper (one is answered at a time); more fail 'helper-busy'. */
export const sessionQueueMax = 16;
/** Linux IFNAMSIZ - 1. */
export const ifnameCharsMax = 15;

export function validateLimits(): void {
  if (!(helperTimeoutMs > helperLockWaitMs))
    throw new Error('xdp limits: the helper must be allowed to wait out a lock');
  if (!(helperOutputBytesMax >= blocklistMax * 128))
    throw new Error('xdp limits: a full blocklist must fit the output cap');
  if (!(verifierLogCharsMax < helperOutputBytesMax))
    throw new Error('xdp limits: the verifier log is part of the output');
}
validateLimits();
