// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---- The dependency rule, enforced (docs/architecture.md, "The dependency rule") ------------------------------
//
// Each rule below is a list of import patterns a group of files may not use, with the reason. ESLint keeps only
// the last `no-restricted-imports` setting that matches a file, so every group repeats the rules that hold
// everywhere (`everywhere`), and the groups are ordered from the widest to the narrowest.

/** @typedef {{ group?: string[], regex?: string, message: string, allowTypeImports?: boolean }} Pattern */

/** @type {Pattern} */
const publicEntryOnly = {
  // Another package is used through its public entry (package.json "exports"), never its files.
  regex: '^@collab/(?!protocol/schemas$|read-side/testing$|client/testing$|cli/testing$)[^/]+/',
  message: "Import another package through its public entry ('@collab/x'), not its files.",
};
/** @type {Pattern} */
const staysInItsPackage = {
  // A relative path that climbs out of its package and into another one (its src, its bench, the CLI...).
  regex: '^(\\.\\./)+([\\w-]+/src/|(packages|cli|bench|infra|schemas|[\\w-]+-service)/)',
  message: "Do not reach into another package's folders: import it by name ('@collab/x') from its public entry.",
};
/** @type {Pattern} */
const openTelemetryThroughObservability = {
  // One OpenTelemetry API for the whole process. Two copies of @opentelemetry/api of different minors do not see
  // each other's registered SDK (the API refuses an older global), so instruments and spans made through a
  // service's own copy were silently no-ops. Everything goes through @collab/observability's re-exports.
  group: ['@opentelemetry/*'],
  message: 'Import OpenTelemetry through @collab/observability (one API instance per process).',
};
const everywhere = [publicEntryOnly, staysInItsPackage, openTelemetryThroughObservability];

/** @param {string} s */
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Nothing from outside the package but `allowed`: exact names, or prefixes ending in '/' (everything under them).
 * Relative imports ('./', '../') are the package's own and stay allowed.
 * @param {string[]} allowed
 * @param {string} message
 * @returns {Pattern}
 */
const onlyImports = (allowed, message) => {
  const names = allowed.map((a) => (a.endsWith('/') ? escapeRegex(a) : `${escapeRegex(a)}$`));
  return { regex: names.length === 0 ? '^[^.]' : `^(?!${names.join('|')})[^.]`, message };
};

/** @type {Pattern} */
const noAdapters = {
  group: ['@collab/adapter-*'],
  message:
    'Only composition roots (main.ts, run.ts, the CLI) choose adapters; this code takes the ports from @collab/core.',
};
/** @type {Pattern} */
const noDrivers = {
  group: ['kafkajs', 'cassandra-driver', '@aws-sdk/*', 'ioredis', 'better-sqlite3', 'avsc', 'uWebSockets.js'],
  message: 'Drivers belong to the adapters (packages/<driver>) and the composition roots, not to service logic.',
};
/** @type {Pattern} */
const noServices = {
  group: [
    '@collab/command-service',
    '@collab/projection-service',
    '@collab/snapshot-service',
    '@collab/presence-service',
    '@collab/read-side',
    '@collab/client',
    '@collab/web-editor',
    '@collab/codemirror',
    '@collab/cli',
    '@collab/bench',
    '@collab/infra',
    '@collab/contracts',
  ],
  message: "An adapter implements @collab/core's ports: it depends on the core and its driver, never on a service.",
};

/**
 * @param {string[]} files
 * @param {Pattern[]} patterns
 * @param {string[]} [ignores]
 */
const boundary = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

const services = ['command-service', 'projection-service', 'snapshot-service', 'presence-service'];
/** Where a service is put together from adapters and drivers (and the tools that are driver-specific by design). */
const compositionRoots = [
  'command-service/src/main.ts',
  'command-service/src/run.ts',
  'command-service/src/cli/**',
  'projection-service/src/main.ts',
  'projection-service/src/rebuild.ts',
  'projection-service/src/consistency.ts',
  'projection-service/src/cli/**',
  'snapshot-service/src/main.ts',
];

const boundaries = [
  // Everything, tests and benchmarks included.
  boundary(['**/*.ts', '**/*.mts'], everywhere, ['packages/observability/**']),
  boundary(['packages/observability/**/*.ts'], [publicEntryOnly, staysInItsPackage]),

  // The pure core: the OT type imports nothing; the core only the OT type; the wire only zod.
  boundary(
    ['packages/ot-text/src/**'],
    [...everywhere, onlyImports([], 'The OT type is pure: no dependencies, no I/O (not even node: built-ins).')],
  ),
  boundary(
    ['packages/core/src/**'],
    [
      ...everywhere,
      onlyImports(
        ['@collab/ot-text'],
        'The core imports no driver, no service and no Node built-in: only the OT type.',
      ),
    ],
  ),
  boundary(
    ['packages/protocol/src/**'],
    [...everywhere, onlyImports(['zod'], 'The protocol is shared with browsers: it depends on zod only.')],
  ),
  boundary(
    ['packages/read-side/src/**'],
    [
      ...everywhere,
      onlyImports(
        ['@collab/core', '@collab/ot-text'],
        'The read side works on the ports: only the core and the OT type.',
      ),
    ],
  ),

  // What runs in browsers imports nothing server-side.
  boundary(
    ['packages/client/src/**'],
    [
      ...everywhere,
      onlyImports(
        ['@collab/ot-text', '@collab/protocol'],
        "The SDK runs in browsers: only the OT type and @collab/protocol's zod-free entry, no server code, no node:.",
      ),
    ],
    ['packages/client/src/testing/**'],
  ),
  boundary(
    ['packages/client/src/testing/**'],
    [
      ...everywhere,
      onlyImports(
        ['@collab/core', '@collab/ot-text', '@collab/protocol'],
        '@collab/client/testing runs in browser test runners too: the SDK, the pure core (the real sequencer ' +
          "decision) and the protocol's zod-free entry, no driver, no service, no node:.",
      ),
    ],
  ),
  boundary(
    ['packages/codemirror/src/**'],
    [
      ...everywhere,
      onlyImports(
        ['@collab/client', '@codemirror/'],
        'The CodeMirror binding runs in the browser: the SDK and CodeMirror only.',
      ),
    ],
  ),
  boundary(
    ['packages/web-editor/src/**'],
    [
      ...everywhere,
      onlyImports(
        ['@collab/client', '@collab/codemirror', '@collab/ot-text', '@codemirror/'],
        'The page runs in the browser: the SDK and CodeMirror only (build.ts and assets.ts are the Node side).',
      ),
    ],
    ['packages/web-editor/src/build.ts', 'packages/web-editor/src/assets.ts'],
  ),

  // Adapters implement the core's ports.
  boundary(['packages/{kafka,cassandra,s3,redis,sqlite}/src/**'], [...everywhere, noServices]),

  // Service logic takes ports; only its composition roots know adapters and drivers. The one driver inside a
  // service is uWebSockets.js, in the command-service's edge (src/transport).
  ...services.map((service) =>
    boundary(
      [`${service}/src/**`],
      [
        ...everywhere,
        noAdapters,
        noDrivers,
        ...(service === 'presence-service'
          ? [
              {
                group: ['@collab/command-service'],
                message: 'The command-service runs the presence router: presence-service must not depend on it back.',
              },
            ]
          : []),
      ],
      [...compositionRoots, 'command-service/src/transport/**'],
    ),
  ),
  boundary(
    ['command-service/src/transport/**'],
    [...everywhere, noAdapters, { ...noDrivers, group: noDrivers.group.filter((d) => d !== 'uWebSockets.js') }],
  ),
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...boundaries,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
