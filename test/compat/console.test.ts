/**
 * The operator's console in a real browser: playwright-core driving Debian's chromium, headless.
 * Logs in (noauth token), creates a volume, watches it become available, attaches it to a server
 * (through the compute API), detaches and deletes it, and saves a screenshot of each step and each
 * page under test-output/console/. Without /usr/bin/chromium (`apt-get install -y chromium`) the
 * test is skipped, loudly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { liftQuotas, PROJECT, TOKEN, startTestCairn, type TestCairn } from '../helpers/cairn';
import { blankRoot, computeApi } from '../helpers/compute';

const CHROMIUM = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '..', '..', 'test-output', 'console');
const PORT = '18184';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `\n*** SKIPPED the console browser test: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CAIRN_CHROMIUM) ***\n`,
  );
}
const maybe = haveChromium ? describe : describe.skip;

maybe('operator console in chromium', () => {
  let cairn: TestCairn;
  let browser: Browser;
  let page: Page;
  const shots: string[] = [];
  const shot = async (name: string) => {
    const file = path.join(SHOTS, `${String(shots.length + 1).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
  };

  beforeAll(async () => {
    fs.rmSync(SHOTS, { recursive: true, force: true });
    fs.mkdirSync(SHOTS, { recursive: true });
    cairn = await startTestCairn({ PORT });
    await liftQuotas(cairn.url);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cairn?.stop();

    if (shots.length) console.log(`console screenshots:\n${shots.join('\n')}`);
  });

  const row = (name: string) => page.locator(`tr[data-name="${name}"]`);
  const statusOf = (name: string) => row(name).locator('.status');
  const dialogOk = () => page.locator('#ask-ok').click();

  test('log in, create a volume, attach it to a server, detach it, delete it', async () => {
    // A server to attach to, booted through the compute API.
    const nova = computeApi(cairn.url);
    const server = await nova.boot({
      name: 'console-srv',
      imageRef: '',
      block_device_mapping_v2: [blankRoot(1, { delete_on_termination: true })],
    });

    await page.goto(`${cairn.url}/console`);
    await page.locator('#login-noauth input[name=token]').waitFor();
    await shot('login');
    await page.fill('#login-noauth input[name=token]', TOKEN);
    await page.click('#login-noauth button[type=submit]');
    await page.locator('#content[data-page=volumes]').waitFor();
    expect(await page.locator('#who').textContent()).toBe(`project ${PROJECT}`);
    expect(await page.evaluate('sessionStorage.getItem("cairn.token")')).toBe(TOKEN);
    await shot('volumes');

    await page.click('#create-volume');
    await page.fill('#ask-fields input[name=name]', 'console-vol');
    await page.fill('#ask-fields input[name=size]', '1');
    await shot('create-dialog');
    await dialogOk();
    await statusOf('console-vol')
      .filter({ hasText: /^available$/ })
      .waitFor({ timeout: 20_000 });
    await shot('volume-available');

    await row('console-vol').locator('button[data-action=attach]').click();
    await page.selectOption('#ask-fields select[name=server]', server.id);
    await dialogOk();
    await statusOf('console-vol')
      .filter({ hasText: /^in-use$/ })
      .waitFor({ timeout: 20_000 });
    expect(await row('console-vol').locator('td').nth(5).textContent()).toBe(server.id.slice(0, 8));
    await shot('volume-attached');
    await page.goto(`${cairn.url}/console/#attachments`);
    await page.locator('#content[data-page=attachments] tr[data-attachment]').first().waitFor();
    await shot('attachments');
    await page.goto(`${cairn.url}/console/#servers`);
    await page.locator(`tr[data-server="${server.id}"]`).waitFor();
    await shot('servers');

    await page.goto(`${cairn.url}/console/#volumes`);
    await row('console-vol').locator('button[data-action=detach]').click();
    await statusOf('console-vol')
      .filter({ hasText: /^available$/ })
      .waitFor({ timeout: 20_000 });
    await shot('volume-detached');

    await row('console-vol').locator('button[data-action=delete]').click();
    await dialogOk();
    await row('console-vol').waitFor({ state: 'detached', timeout: 20_000 });
    await shot('volume-deleted');
    const left = (await fetch(`${cairn.url}/v3/${PROJECT}/volumes?name=console-vol`, { headers: { 'X-Auth-Token': TOKEN } }).then((r) =>
      r.json(),
    )) as { volumes: unknown[] };
    expect(left.volumes).toEqual([]);

    // The other pages, as an operator sees them.
    for (const name of ['snapshots', 'tasks', 'messages', 'quotas', 'services']) {
      await page.goto(`${cairn.url}/console/#${name}`);
      await page.locator(`#content[data-page=${name}]`).waitFor();
      await shot(name);
    }
    expect(await page.locator('#content[data-page=services]').textContent()).toContain('testhost@file');
    expect(await page.locator('#error').textContent()).toBe('');
    expect(shots.length).toBe(14);
  }, 120_000);
});
