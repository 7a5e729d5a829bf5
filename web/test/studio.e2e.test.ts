// The studio in a real Chromium against every real service (test/e2e/studioStack.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamId } from '@kiln/contracts/streams';
import { shot, signUp, startStudioStack, type StudioStack } from './e2e/studioStack.ts';

/** The smallest PNG there is: one transparent pixel. */
const ONE_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

describe('the studio in Chromium', () => {
  let stack: StudioStack;
  let command: StudioStack['command'];
  let hub: StudioStack['hub'];
  let media: StudioStack['media'];
  let web: StudioStack['web'];
  let browser: StudioStack['browser'];

  beforeAll(async () => {
    stack = await startStudioStack();
    ({ command, hub, media, web, browser } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const name = `ana-${randomUUID().slice(0, 8)}`;
  const email = `${name}@kiln.test`;
  const password = `pw-${randomUUID()}`;

  it('signs up, is told the credits missing, gets credits, creates a job, signs out and in again', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    await page.goto(`${web.url}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    // The browser's own check stops a short password first; the server's message is tested below.
    expect(new URL(page.url()).pathname).toBe('/sign-up');
    await page.getByLabel('Password').fill(password);
    await shot(page, 'sign-up');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${web.url}/studio`);
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('0 credits');

    // The session cookie is the command service's own, handed through by the web app.
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'kiln_session');
    expect(session?.httpOnly).toBe(true);

    // The catalog with prices, from the command service.
    const catalog = page.getByRole('table');
    await expect.poll(() => catalog.getByRole('rowheader').count()).toBeGreaterThan(1);
    expect(await catalog.textContent()).toContain('Kiln local image');

    // 512×512, one image, on the local model: 1 per image + 1 per started megapixel = 2 credits.
    await page.getByLabel('Prompt').fill('a kiln at dusk');
    await expect.poll(() => page.locator('#job-cost').textContent()).toBe('This costs 2 credits.');
    await page.getByRole('button', { name: 'Create image' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('You need 2 more credits.');
    await shot(page, 'studio-402');

    const me = await command.call('GET', '/v1/accounts/me', { cookie: `kiln_session=${session?.value}` });
    // The account menu follows the account live (the realtime hub, with the browser's own session
    // cookie): the grant shows without a reload.
    await expect.poll(() => page.locator('.live').textContent(), { timeout: 15_000 }).toBe('live');
    await command.grant(me.body.data.accountId, 10);
    await expect
      .poll(() => page.getByTestId('balance').textContent(), { timeout: 15_000 })
      .toBe('10 credits');

    await page.getByLabel('Prompt').fill('a kiln at dusk');
    await page.getByRole('button', { name: 'Create image' }).click();
    await page.waitForURL(/\/studio\?after=/);
    const jobs = page.getByRole('list', { name: 'My jobs' });
    // `?after=` made the query service wait for the new job and the reservation.
    expect(await jobs.textContent()).toContain('a kiln at dusk');
    expect(await page.getByTestId('balance').textContent()).toBe('8 credits');
    expect(await page.getByText('Your job was created.').isVisible()).toBe(true);
    // The job's own events from the hub move its status in the list, without a reload (the media
    // processor stores its variants, then the job completes).
    const job = jobs.getByRole('listitem').filter({ hasText: 'a kiln at dusk' });
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    await expect.poll(() => job.locator('.badge').textContent(), { timeout: 30_000 }).toBe('completed');
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
    // Its thumbnail in the gallery, from the media processor with the browser's own cookie, loads once
    // scrolled to (the gallery's images load lazily, as a person scrolls).
    const cover = job.locator('img.job-cover');
    await cover.scrollIntoViewIfNeeded();
    await expect
      .poll(() => cover.evaluate((image: HTMLImageElement) => (image.complete ? image.naturalWidth : 0)))
      .toBeGreaterThan(0);
    expect(await cover.getAttribute('src')).toMatch(new RegExp(`^${media.url}/v1/media/jobs/.+/0/thumbnail`));
    await shot(page, 'studio');

    // The video form's cost follows what is typed: 2 credits a second on the local animation.
    await page.getByRole('link', { name: 'Video' }).click();
    await page.getByLabel('Seconds').fill('4');
    await expect.poll(() => page.locator('#job-cost').textContent()).toBe('This costs 8 credits.');
    await page.getByLabel('Seconds').fill('11');
    await expect
      .poll(() => page.locator('#job-cost').textContent())
      .toBe('The cost shows once the request fits the model.');

    await page.getByTestId('balance').click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${web.url}/sign-in`);
    expect((await context.cookies()).find((cookie) => cookie.name === 'kiln_session')).toBeUndefined();
    await page.goto(`${web.url}/studio`);
    expect(page.url()).toBe(`${web.url}/sign-in?next=%2Fstudio`);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').count()).toBe(1);
    await shot(page, 'sign-in-refused');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web.url}/studio`);
    expect(await page.getByRole('list', { name: 'My jobs' }).textContent()).toContain('a kiln at dusk');

    expect(errors).toEqual([]);
    await context.close();
  });

  it('works without JavaScript: sign-up errors, sign-in, an image job and a video job', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${web.url}/sign-up`);
    await page.getByLabel('Your name').fill('No Script');
    // Already taken: the service's conflict comes back as a message on the server-rendered page.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(`pw-${randomUUID()}`);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState();
    expect(await page.getByRole('alert').textContent()).toBeTruthy();
    expect(await page.content()).not.toMatch(/at .*\.(ts|js):\d+/);

    await page.goto(`${web.url}/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web.url}/studio`);
    expect(await page.getByTestId('balance').textContent()).toBe('8 credits');

    await page.getByLabel('Prompt').fill('no script needed');
    await page.getByRole('button', { name: 'Create image' }).click();
    await page.waitForURL(/\/studio\?after=/);
    expect(await page.getByRole('list', { name: 'My jobs' }).textContent()).toContain('no script needed');
    expect(await page.getByTestId('balance').textContent()).toBe('6 credits');

    // A video, by a link and a form: one second of the local animation is 2 credits.
    await page.getByRole('link', { name: 'Video' }).click();
    await page.waitForURL(`${web.url}/studio?kind=video`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Create a video');
    await page.getByLabel('Prompt').fill('embers rising');
    await page.getByLabel('Seconds').fill('1');
    await page.getByRole('button', { name: 'Create video' }).click();
    await page.waitForURL(/\/studio\?after=.*kind=video/);
    expect(await page.getByRole('list', { name: 'My jobs' }).textContent()).toContain('embers rising');
    expect(await page.getByTestId('balance').textContent()).toBe('4 credits');

    // Its page, and a cancel by a plain form: the page after it shows the job canceling or canceled.
    await page.getByRole('link', { name: 'embers rising' }).click();
    await page.waitForURL(/\/jobs\/[^/?]+$/);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.waitForURL(/\/jobs\/[^/?]+\?after=/);
    expect(await page.getByTestId('job-status').textContent()).toMatch(/^(canceling|canceled)$/);
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    await context.close();
  });

  it('sends input images with a job, after the browser refused too large a file', async () => {
    const dana = await signUp(stack, `dana-${randomUUID().slice(0, 8)}`);
    await command.grant(dana.accountId, 20);
    const page = dana.page;
    await page.goto(`${web.url}/studio`);
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'FLUX.1 [dev] on fal' });
    const inputs = page.getByLabel('Input images (optional)');
    await inputs.setInputFiles([
      { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) },
    ]);
    await expect
      .poll(() => page.locator('#field-inputs-error').textContent())
      .toBe('huge.png is larger than 10 MB.');
    await page.getByLabel('Prompt').fill('a kiln from a sketch');
    await page.getByRole('button', { name: 'Create image' }).click();
    // The browser kept it: no request left, so the page is the same and no job exists.
    expect(await inputs.evaluate((input: HTMLInputElement) => input.validity.customError)).toBe(true);
    expect(new URL(page.url()).search).toBe('');

    await inputs.setInputFiles([{ name: 'sketch.png', mimeType: 'image/png', buffer: ONE_PIXEL_PNG }]);
    expect(await page.locator('#field-inputs-error').count()).toBe(0);
    await page.getByRole('button', { name: 'Create image' }).click();
    await page.waitForURL(/\/studio\?after=/);
    const jobId = new URL(page.url()).searchParams.get('created') ?? '';
    const [requested] = await command.store.readStream(jobStreamId(jobId), { maxCount: 1 });
    expect(requested?.type).toBe('JobRequested');
    expect((requested?.data as { inputs?: unknown[] }).inputs).toEqual([
      expect.objectContaining({ contentType: 'image/png', size: ONE_PIXEL_PNG.length }),
    ]);
    expect(dana.errors).toEqual([]);
    await dana.context.close();
  });

  it('fits a phone', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    await page.goto(`${web.url}/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web.url}/studio`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'studio-phone');
    await context.close();
  });
  it('is live when opened by localhost too: the hub is named as the page was, so the cookie goes along', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const byName = web.url.replace('127.0.0.1', 'localhost');
    await page.goto(`${byName}/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${byName}/studio`);
    await expect.poll(() => page.locator('.live').textContent(), { timeout: 15_000 }).toBe('live');
    await context.close();
  });

  it('follows jobs on their pages: progress, image, cancel, a hub outage, a 404', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${web.url}/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web.url}/studio`);
    const session = (await context.cookies()).find((cookie) => cookie.name === 'kiln_session');
    const me = await command.call('GET', '/v1/accounts/me', { cookie: `kiln_session=${session?.value}` });

    // Credits arrive while a prompt is being typed: the page's data reloads live (the balance changes),
    // and the form keeps what was typed.
    await page.getByLabel('Prompt').fill('a kiln seen live');
    await command.grant(me.body.data.accountId, 10);
    await expect
      .poll(() => page.getByTestId('balance').textContent(), { timeout: 15_000 })
      .toBe('16 credits');
    expect(await page.getByLabel('Prompt').inputValue()).toBe('a kiln seen live');
    await page.getByRole('button', { name: 'Create image' }).click();
    await page.waitForURL(/\/studio\?after=/);
    await page.getByRole('link', { name: 'a kiln seen live' }).click();
    await page.waitForURL(/\/jobs\/[^/?]+$/);
    const status = page.getByTestId('job-status');
    // The page opened while the job was still under way; the hub's events carry it to the end.
    expect(['requested', 'submitted', 'running']).toContain(await status.textContent());
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    // From now on, each change in the number of provider log lines, with the status shown at that moment.
    const logLinesAtLoad = await page.evaluate(() => {
      const snapshot = () => ({
        lines: document.querySelectorAll('ol.job-logs > li').length,
        status: document.querySelector('[data-testid="job-status"]')?.textContent ?? '',
      });
      const changes: Array<ReturnType<typeof snapshot>> = [];
      let lines = snapshot().lines;
      new MutationObserver(() => {
        const now = snapshot();
        if (now.lines !== lines) changes.push(now);
        lines = now.lines;
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
      Object.assign(window, { logChanges: changes });
      return lines;
    });
    await expect.poll(() => page.getByTestId('job-feed').textContent(), { timeout: 15_000 }).toBe('live');
    // Progress while it runs comes only from the hub (no billing event reloads the page meanwhile).
    const progressAtLoad = await page
      .locator('#job-progress')
      .evaluate((bar: HTMLProgressElement) => bar.value);
    await expect
      .poll(() => page.locator('#job-progress').evaluate((bar: HTMLProgressElement) => bar.value))
      .toBeGreaterThan(progressAtLoad);
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('completed');
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
    const log = page.getByRole('list', { name: 'Provider log' });
    expect(await log.getByRole('listitem').count()).toBeGreaterThan(0);
    // The provider's log lines arrived while the job was still under way, from the hub alone: the list
    // grew before the status reached the end, on the page as it was loaded.
    const logChanges = await page.evaluate(
      () => (window as Window & { logChanges?: Array<{ lines: number; status: string }> }).logChanges,
    );
    expect(
      (logChanges ?? []).filter(
        ({ lines, status }) => lines > logLinesAtLoad && ['submitted', 'running'].includes(status),
      ),
    ).not.toEqual([]);
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    expect(await page.locator('.timings').textContent()).toContain('Finished');
    // The thumbnail comes from the media processor, with the browser's own session cookie.
    const image = page.getByRole('img', { name: 'Image 1: a kiln seen live' });
    await expect
      .poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth))
      .toBeGreaterThan(0);
    const download = page.getByRole('link', { name: /^Download image 1/ });
    expect(await download.getAttribute('href')).toMatch(
      new RegExp(`^${media.url}/v1/media/jobs/.+/0/original$`),
    );
    await shot(page, 'job');

    // Another job, canceled from its page while it runs: the credits come back.
    await page.goto(`${web.url}/studio`);
    await page.getByLabel('Prompt').fill('a kiln never fired');
    await page.getByRole('button', { name: 'Create image' }).click();
    await page.waitForURL(/\/studio\?after=/);
    await page.getByRole('link', { name: 'a kiln never fired' }).click();
    await page.waitForURL(/\/jobs\/[^/?]+$/);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('canceled');
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('balance').textContent(), { timeout: 15_000 })
      .toBe('14 credits');

    // The hub goes away while a job runs: the page says so, and when the hub is back on the same address
    // the client resumes from its last position and the job completes on the page, without a reload.
    await page.goto(`${web.url}/studio`);
    await page.getByLabel('Prompt').fill('a kiln through an outage');
    await page.getByRole('button', { name: 'Create image' }).click();
    await page.waitForURL(/\/studio\?after=/);
    await page.getByRole('link', { name: 'a kiln through an outage' }).click();
    await page.waitForURL(/\/jobs\/[^/?]+$/);
    const feed = page.getByTestId('job-feed');
    await expect.poll(() => feed.textContent(), { timeout: 15_000 }).toBe('live');
    const reloadedAt = await page.evaluate(() => performance.timeOrigin);
    await hub.stop();
    await expect.poll(() => feed.textContent(), { timeout: 15_000 }).toBe('reconnecting…');
    await hub.start();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('completed');
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(reloadedAt);

    // Someone else's job, or none: a 404 page that says so.
    const missing = await page.goto(`${web.url}/jobs/${randomUUID()}`);
    expect(missing?.status()).toBe(404);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Job not found');
    expect(await page.getByRole('alert').textContent()).toBe('You have no job with this id.');

    expect(errors).toEqual([]);
    await context.close();
  });
});
