import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSetup, type BrowserSetup } from './support.js';

/** A newcomer opens GraphiQL on the embedded default and runs the prefilled query: offline, no CDN. */
describe('GraphiQL in a real browser', () => {
  let setup: BrowserSetup;

  beforeAll(async () => {
    setup = await startBrowserSetup('pulse-graphiql-');
  }, 120_000);

  afterAll(() => setup?.dispose());

  test('renders without external requests and runs the prefilled query with the development token', async () => {
    const page = await setup.browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('http://127.0.0.1') && !request.url().startsWith('data:') && !request.url().startsWith('blob:')) external.push(request.url());
    });
    await page.goto(setup.pulse.url);
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => page.locator('.result-window').innerText(), { timeout: 20_000 }).toMatch(/"totalCount":\s*0/);
    expect(external).toEqual([]);
  }, 60_000);
});
