// Limits on what the agent reads from batman-adv (through batctl). A mesh interface with more rows than this
// is cut at the limit (and the cut is reported), never read without bound.

/** batctl answers from the kernel's tables at once; longer means something is stuck. */
export const batctlTimeoutMs = 5_000;
/** Output captured per batctl call: ~100 bytes per row, so room for thousands of originators. */
export const batctlOutputBytesMax = 256 * 1024;
/** Rows kept per table (neighbours, originators). */
export const batmanRowsMax = 1_024;
/** Interfaces under one mesh interface read from sysfs (a router has a few: radios and wired mesh ports). */
export const hardInterfacesMax = 16;
