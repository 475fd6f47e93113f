// One jest run for the whole workspace. Two projects:
//  - unit: *.spec.ts next to the code, no I/O beyond loopback sockets;
//  - integration: *.int-spec.ts, against the real PostgreSQL and Redis of the
//    machine (see README "Tests") and real MQTT clients.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    `<rootDir>/${target}`,
  ]),
);

const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      swcrc: false,
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
    },
  ],
};

// openid-client@6 and its dependencies (oauth4webapi, its own jose@6) are
// ESM-only. Node 20.19+ loads them with require() at runtime, but jest's module
// system cannot, so these packages (and only these) are compiled to CommonJS
// by swc like our own sources. jose@5 (CommonJS) matches the pattern too; swc
// leaves it as it is.
const esmOnly = ['openid-client', 'oauth4webapi', 'jose'];
transform['^.+\\.js$'] = [
  '@swc/jest',
  { swcrc: false, jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } },
];

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  // Integration tests start real processes and databases; a global timeout
  // because jest ignores testTimeout inside a project.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,tests}/**/*.int-spec.ts', '<rootDir>/bench/**/*.int-spec.ts'],
    },
  ],
};
