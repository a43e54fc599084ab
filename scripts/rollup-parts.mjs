// Shared rollup pieces: the bundle guard and the plugin list. Used by rollup.config.mjs and by the
// test that proves the guard fails a build which imports a Node built-in.
import { builtinModules } from 'node:module';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import terser from '@rollup/plugin-terser';

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const runtimeModule = /^(qjs|x0):[a-z]+$/;

// The router runs QuickJS-ng: the only imports left in the bundle may be qjs:* and x0:* modules.
// Anything else (a Node built-in, an unresolved package) fails the build with the importer named.
export function bundleGuard() {
  return {
    name: 'x0-bundle-guard',
    resolveId(source, importer) {
      if (runtimeModule.test(source)) return { id: source, external: true };
      if (nodeBuiltins.has(source) || source.startsWith('node:')) {
        this.error(
          `bundle imports the Node built-in '${source}' (from ${importer ?? 'the entry'}); the router bundle may import only qjs:* and x0:* modules`,
        );
      }
      return null;
    },
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const bad = chunk.imports.filter((id) => !runtimeModule.test(id));
        if (bad.length > 0)
          this.error(`bundle ${chunk.fileName} imports ${bad.join(', ')}; only qjs:* and x0:* are allowed`);
      }
    },
  };
}

// tweetnacl probes `require('crypto')` for randomness. QuickJS-ng has no require (and the guard forbids
// Node built-ins), so that branch is cut out; the platform hands tweetnacl its random bytes instead.
function tweetnaclWithoutRequire() {
  return {
    name: 'x0-tweetnacl-without-require',
    transform(code, id) {
      if (!/[\\/]tweetnacl[\\/]nacl(-fast)?\.js$/.test(id)) return null;
      const probe = "typeof require !== 'undefined'";
      if (!code.includes(probe)) this.error(`tweetnacl changed: '${probe}' not found in ${id}`);
      return { code: code.replace(probe, 'false'), map: null };
    },
  };
}

export function reportSize() {
  return {
    name: 'x0-report-size',
    writeBundle(options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const bytes = Buffer.byteLength(chunk.code);
        console.log(
          `bundle ${options.dir ?? ''}${options.file ?? chunk.fileName}: ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`,
        );
      }
    },
  };
}

export function plugins({ minify }) {
  return [
    bundleGuard(),
    nodeResolve({ browser: true, preferBuiltins: false, exportConditions: ['import', 'default'] }),
    tweetnaclWithoutRequire(),
    commonjs(),
    typescript({
      tsconfig: './tsconfig.json',
      noEmit: false,
      outDir: undefined,
      declaration: false,
      sourceMap: true,
      include: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'types/**/*.d.ts'],
    }),
    ...(minify ? [terser({ ecma: 2020, module: true, compress: { passes: 2 }, format: { comments: false } })] : []),
    reportSize(),
  ];
}

export const onwarn = (warning, warn) => {
  // An unresolved import is a build error, not a warning: the router has no module loader for it.
  if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(warning.message);
  if (warning.code === 'CIRCULAR_DEPENDENCY' && warning.ids?.every((id) => id.includes('node_modules'))) return;
  warn(warning);
};
