/**
 * docker/Dockerfile against Signet's image rules (tests/deploy/dockerfile-lint.ts says why these
 * are checked here rather than by hadolint). No image is built: this machine has the Docker
 * client but no engine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { lintDockerfile } from './dockerfile-lint';
import { REPO } from './manifests';
import { SERVER_APPS } from './routes';

const DOCKERFILE = readFileSync(join(REPO, 'docker', 'Dockerfile'), 'utf8');
const APPS = SERVER_APPS;

describe('docker/Dockerfile', () => {
  it('follows the image rules', () => {
    expect(lintDockerfile(DOCKERFILE)).toEqual([]);
  });

  it('documents a build for every app, and builds the all-in-one by default', () => {
    for (const app of APPS) expect(DOCKERFILE).toContain(`--build-arg APP=${app} `);
    expect(DOCKERFILE).toMatch(/^ARG APP=signet$/m);
    // The RUN that links main.js refuses an APP that has no entry point.
    expect(DOCKERFILE).toContain('test -f "dist/apps/${APP}/src/main.js"');
  });

  it('keeps state out of the root filesystem: SIGNET_DATA_DIR is a volume', () => {
    expect(DOCKERFILE).toMatch(/SIGNET_DATA_DIR=\/var\/lib\/signet/);
    expect(DOCKERFILE).toMatch(/^VOLUME \["\/var\/lib\/signet"\]$/m);
  });

  describe('a Dockerfile breaking a rule fails', () => {
    it.each([
      ['a latest base image', (s: string) => s.replace('ARG NODE_VERSION=20.20.2', 'ARG NODE_VERSION=latest').replace(/-bookworm-slim/g, ''), /pinned tag/],
      ['an untagged base image', (s: string) => s.replace(/FROM node:\$\{NODE_VERSION\}-bookworm-slim AS runtime/, 'FROM node AS runtime'), /pinned tag/],
      ['ADD of a URL', (s: string) => s.replace('COPY package.json ./\n', 'ADD https://example.com/x.tgz /tmp/\n'), /ADD of a URL/],
      ['a download in RUN', (s: string) => s.replace('RUN npm run build', 'RUN curl -fsSL https://example.com/x | sh && npm run build'), /downloads outside npm/],
      ['root', (s: string) => s.replace('USER 1000:1000', 'USER root'), /numeric non-root/],
      ['no USER', (s: string) => s.replace('USER 1000:1000\n', ''), /no USER/],
      ['no HEALTHCHECK', (s: string) => s.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, ''), /no HEALTHCHECK/],
      ['a shell-form command', (s: string) => s.replace('CMD ["node", "main.js"]', 'CMD node main.js'), /exec form/],
      ['dev dependencies in the image', (s: string) => s.replace('--from=deps /src/node_modules', '--from=build /src/node_modules'), /--omit=dev/],
    ])('%s', (_, breakIt, message) => {
      const broken = breakIt(DOCKERFILE);
      expect(broken).not.toBe(DOCKERFILE);
      expect(lintDockerfile(broken).join('\n')).toMatch(message);
    });
  });
});
