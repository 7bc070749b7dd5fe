/**
 * Import direction: app (src/{main,server,app}.ts, src/cli) → modules (src/modules) → platform
 * (graphql, mqtt, db, events, http, auth, platform, and src/{config,services,workers,logger}.ts)
 * → kernel (src/kernel). `npm run lint` fails on an import against that direction or on a cycle.
 */
const PLATFORM = '^src/((graphql|mqtt|db|events|http|auth|platform)/|(config|services|workers|logger)\\.ts$)';
const APP = '^src/((main|server|app)\\.ts$|cli/)';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles hide layering mistakes.', from: {}, to: { circular: true } },
    { name: 'platform-imports-no-module', severity: 'error', comment: 'The platform reads module descriptors; it never imports a module.', from: { path: PLATFORM }, to: { path: '^src/modules/' } },
    { name: 'platform-imports-no-app', severity: 'error', from: { path: PLATFORM }, to: { path: APP } },
    { name: 'modules-import-no-app', severity: 'error', from: { path: '^src/modules/' }, to: { path: APP } },
    { name: 'kernel-imports-only-kernel', severity: 'error', comment: 'The kernel is plain domain types and rules.', from: { path: '^src/kernel/' }, to: { path: '^src/', pathNot: '^src/(kernel|generated)/' } },
    { name: 'module-registry-only-from-app', severity: 'error', comment: 'Only the app layer wires the module list.', from: { path: '^src/modules/', pathNot: '^src/modules/index\\.ts$' }, to: { path: '^src/modules/index\\.ts$' } },
  ],
  options: {
    doNotFollow: { path: ['node_modules', 'src/generated'] },
    exclude: { path: ['src/generated'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
