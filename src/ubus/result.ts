// ubus's view of the shared results (src/core/result.ts): assertion messages say they come from ubus.
import { assertThat } from '../core/result.js';

export { AssertionError, Counters, fail, ok, type Result } from '../core/result.js';

export const assert: (condition: unknown, message: string) => asserts condition = (condition, message) =>
  assertThat(condition, `ubus: ${message}`);
