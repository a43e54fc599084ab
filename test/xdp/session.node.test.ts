// The x0-xdp session over Node's child processes (session-suite.ts; the same suite runs in x0-runtime).
import { createNodePlatform } from '../../src/platform/node/index.js';
import { defineSessionSuite } from './session-suite.js';

defineSessionSuite('node', createNodePlatform());
