// Bundles an app's entry point into dist/main.mjs for production: the
// workspace packages (TypeScript sources) are compiled in, npm dependencies
// stay external and load from node_modules. Run from the app's folder:
// `node ../../scripts/build.mjs src/main.ts`.
import { build } from 'esbuild';
import path from 'node:path';

const entry = process.argv[2] ?? 'src/main.ts';
await build({
  entryPoints: [entry],
  outfile: path.join('dist', 'main.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // CommonJS dependencies loaded from an ES module bundle need `require`.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [
    {
      name: 'externalize-npm-dependencies',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@flipfix/') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
