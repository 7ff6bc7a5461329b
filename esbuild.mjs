// Bundles the extension host, its search worker and the CLI (CommonJS, Node 20) and the webviews
// (one IIFE per view for the browser, loaded by the panels from dist/webview/).
/* global process */
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
// --webviews-only: just the webview bundles (the webview DOM tests build them this way).
const webviewsOnly = process.argv.includes('--webviews-only');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'info',
};
export const WEBVIEWS = ['runView', 'inspector', 'traceDiff', 'compareRuns', 'report'];
// zod's namespace export drags in every locale (~260 kB minified); the webviews only need
// English, which zod registers on its own (classic/schemas.js imports locales/en.js).
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(build) {
    build.onResolve({ filter: /locales[\\/]index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'tracelift-stub' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'tracelift-stub' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};
const webview = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome120'],
  sourcemap: true,
  minify: true,
  logLevel: 'info',
  legalComments: 'none',
  plugins: [zodWithoutLocales],
};
const builds = [
  ...(webviewsOnly
    ? []
    : [
        { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', 'tsx'] },
        // The run search's worker thread (the extension starts it from dist/ beside extension.js).
        { ...common, entryPoints: ['src/extension/services/runs/searchWorker.ts'], outfile: 'dist/searchWorker.js' },
        { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' },
        // The report view's worker thread (reads runs off the extension host's event loop).
        { ...common, entryPoints: ['src/engine/report/reportWorker.ts'], outfile: 'dist/reportWorker.js' },
      ]),
  ...WEBVIEWS.map((name) => ({ ...webview, entryPoints: [`webview/src/${name}.ts`], outfile: `dist/webview/${name}.js` })),
];
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
