import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Module boundaries mean something here:
 *  - type:app composes features; features use data-access, domain and util;
 *    domain and util depend on nothing above them.
 *  - scope:mqtt (the edge core) must stay free of NestJS and TypeORM: the
 *    per-packet path has no framework in it.
 */
export default [
  { ignores: ['dist/**', 'node_modules/**', 'tmp/**', 'coverage/**', '.nx/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:util', 'type:domain', 'type:testing'] },
            {
              sourceTag: 'scope:mqtt',
              onlyDependOnLibsWithTags: ['scope:mqtt', 'scope:shared'],
              bannedExternalImports: ['@nestjs/*', 'typeorm', 'pg', '@electric-sql/*'],
            },
            { sourceTag: 'scope:tokens', onlyDependOnLibsWithTags: ['scope:tokens', 'scope:api-keys', 'scope:shared'] },
            { sourceTag: 'scope:api-keys', onlyDependOnLibsWithTags: ['scope:api-keys', 'scope:shared'] },
            { sourceTag: 'scope:auth-webhooks', onlyDependOnLibsWithTags: ['scope:auth-webhooks', 'scope:api-keys', 'scope:mqtt', 'scope:shared'] },
            {
              sourceTag: 'scope:directory',
              onlyDependOnLibsWithTags: ['scope:directory', 'scope:tokens', 'scope:api-keys', 'scope:shared'],
            },
            { sourceTag: 'scope:sessions', onlyDependOnLibsWithTags: ['scope:sessions', 'scope:api-keys', 'scope:mqtt', 'scope:shared'] },
            { sourceTag: 'scope:accounts', onlyDependOnLibsWithTags: ['scope:accounts', 'scope:api-keys', 'scope:shared'] },
            {
              sourceTag: 'scope:federation',
              onlyDependOnLibsWithTags: ['scope:federation', 'scope:tokens', 'scope:api-keys', 'scope:shared'],
            },
          ],
        },
      ],
    },
  },
  {
    // Tests (and the testing/ helpers only they import) may use the testing helpers of any library.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', 'libs/**/src/testing/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // One client address for the HTTP API: Fastify's request.ip (trustProxy from SIGNET_TRUSTED_PROXIES).
    // Reading forwarding headers anywhere else would let a client pick its address past allowlists and limits.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Literal[value=/^(x-forwarded-for|x-real-ip|forwarded|true-client-ip|cf-connecting-ip)$/i]',
          message: 'The client address is request.ip (@Ip() in handlers): never read forwarding headers yourself; see SIGNET_TRUSTED_PROXIES.',
        },
      ],
    },
  },
];
