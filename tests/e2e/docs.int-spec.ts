/**
 * The Swagger UI at /docs, which every banner advertises: its init script
 * parses (the OpenAPI texts contain `$'`, see `user_id`), its assets load with
 * and without the trailing slash, and a real browser renders the operations.
 */
import { existsSync } from 'node:fs';
import { createContext, Script } from 'node:vm';

import type { SignetProcess } from '@signet/runtime';

import { CHROMIUM, launchChromium } from '../support/cli';
import { Backend, embeddedBackend, startSignet } from '../support/signet';


describe('the Swagger UI at /docs', () => {
  let backend: Backend;
  let signet: SignetProcess;
  let base: string;

  beforeAll(async () => {
    backend = await embeddedBackend();
    signet = await startSignet(backend);
    base = `http://127.0.0.1:${signet.ports.http}`;
  });
  afterAll(async () => {
    await signet?.close();
    await backend?.cleanup();
  });

  it('serves an init script that parses and hands the UI the document as written', async () => {
    const res = await fetch(`${base}/docs/swagger-ui-init.js`);
    expect(res.status).toBe(200);
    const script = new Script(await res.text(), { filename: 'swagger-ui-init.js' });
    const doc: unknown = await (await fetch(`${base}/docs/openapi.json`)).json();
    // The `$'` of the user_id rule is what broke the script once; it must reach the UI unchanged.
    expect(JSON.stringify(doc)).toContain("$'");

    // Run it as the page would, with Swagger UI replaced by a recorder of the options it is given.
    const given: { spec?: unknown }[] = [];
    const SwaggerUIBundle = Object.assign((options: { spec?: unknown }) => given.push(options) && {}, {
      presets: { apis: {} },
      plugins: { DownloadUrl: {} },
    });
    const window: { location: { search: string; origin: string }; onload?: () => void } = {
      location: { search: '', origin: base },
    };
    script.runInContext(createContext({ window, SwaggerUIBundle, SwaggerUIStandalonePreset: {} }));
    window.onload?.();
    expect(given).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(given[0].spec))).toEqual(doc);
  });

  it.each(['/docs', '/docs/'])('%s links assets that exist', async (page) => {
    const res = await fetch(`${base}${page}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs).toEqual(expect.arrayContaining([expect.stringContaining('swagger-ui-init.js')]));
    for (const ref of refs) {
      const url = new URL(ref, `${base}${page}`);
      const asset = await fetch(url);
      expect([url.pathname, asset.status]).toEqual([url.pathname, 200]);
    }
  });

  (existsSync(CHROMIUM) ? it : it.skip).each(['/docs', '/docs/'])(
    'renders the operations in headless Chromium at %s',
    async (page) => {
      const browser = await launchChromium();
      try {
        const tab = await browser.newPage();
        const errors: string[] = [];
        tab.on('pageerror', (err) => errors.push(err.message));
        await tab.goto(`${base}${page}`);
        await tab.waitForSelector('.opblock', { timeout: 20000 });
        expect(await tab.locator('.opblock').count()).toBeGreaterThan(3);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
