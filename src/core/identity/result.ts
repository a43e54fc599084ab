// The identity and channel cores' view of the shared results (src/core/result.ts).
import { assertThat } from '../result.js';

export { AssertionError, Counters, fail, ok, type Result } from '../result.js';

export const assert: (condition: unknown, message: string) => asserts condition = (condition, message) =>
  assertThat(condition, `identity: ${message}`);
