// The x0-xdp session over x0-runtime's child processes (session-suite.ts; the same suite runs on Node).
import { createQjsPlatform } from '../../src/platform/qjs/index.js';
import { defineSessionSuite } from './session-suite.js';

defineSessionSuite('qjs', createQjsPlatform());
