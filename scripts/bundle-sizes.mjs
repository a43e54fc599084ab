// Where the bundle's bytes go: minified bytes per source folder, read from dist/x0tta6bl4.js's source map.
// Usage: node scripts/bundle-sizes.mjs [--depth N] [--top N]   (after npm run build)
import { readFileSync } from 'node:fs';
import { TraceMap, eachMapping } from '@jridgewell/trace-mapping';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    'usage: node scripts/bundle-sizes.mjs [--depth N] [--top N]  minified bytes of dist/x0tta6bl4.js per source folder',
  );
  process.exit(0);
}
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const depth = option('--depth', 3);
const top = option('--top', 30);
const root = new URL('..', import.meta.url).pathname;
let text;
try {
  text = readFileSync(`${root}dist/x0tta6bl4.js.map`, 'utf8');
} catch {
  console.error('bundle-sizes: dist/x0tta6bl4.js.map is missing: run npm run build');
  process.exit(1);
}
const sizes = new Map();
let previous = null;
eachMapping(new TraceMap(text), (m) => {
  if (previous !== null && previous.line === m.generatedLine) {
    const group = (previous.source ?? '(none)')
      .replace(/^.*?(src|node_modules)\//, '$1/')
      .split('/')
      .slice(0, depth)
      .join('/');
    sizes.set(group, (sizes.get(group) ?? 0) + m.generatedColumn - previous.column);
  }
  previous = { line: m.generatedLine, column: m.generatedColumn, source: m.source };
});
const total = [...sizes.values()].reduce((a, b) => a + b, 0);
for (const [group, bytes] of [...sizes].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${(bytes / 1024).toFixed(1).padStart(7)} KB  ${group}`);
console.log(`${(total / 1024).toFixed(1).padStart(7)} KB  total mapped`);
