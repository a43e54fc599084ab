// Kept equal to package.json's version by test/agent/version.node.test.ts.
export const agentVersion = '0.1.0';
