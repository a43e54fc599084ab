// Kept equal to package.json's version by test/build/version.node.test.ts.
export const agentVersion = '0.1.0';
