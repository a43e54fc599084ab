import { plugins, onwarn } from './scripts/rollup-parts.mjs';

// One input per shipped entry point, one output format (ES module for QuickJS-ng).
export default [
  {
    input: 'src/entry/qjs.ts',
    output: { file: 'dist/x0tta6bl4.js', format: 'es', sourcemap: true },
    plugins: plugins({ minify: true }),
    onwarn,
  },
];
