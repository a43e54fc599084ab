// Invariant checks and result values for the CRDT core: the shared module (src/core/result.ts), with the
// assertion message prefixed so a failing invariant names its capability.
import { assertThat } from '../result.js';

export { AssertionError, fail, ok, type Result } from '../result.js';

export function assert(condition: unknown, message: string): asserts condition {
  assertThat(condition, `crdt: ${message}`);
}
