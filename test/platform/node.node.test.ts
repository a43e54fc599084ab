import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodePlatform } from '../../src/platform/node/index.js';
import { definePlatformConformance } from '../lib/platform-conformance.js';

const scratch = mkdtempSync(join(tmpdir(), 'x0-platform-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
definePlatformConformance('node', createNodePlatform({ argv: [] }), scratch);
