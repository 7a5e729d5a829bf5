// Billing history, its replay, a job's timeline and the admin pages in Chromium, against every real service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN } from '@kiln/command-service/testing/harness';
import { newEventId } from '@kiln/contracts/event-ids';
import { providerStreamId } from '@kiln/contracts/streams';
import type { ProjectorLag, ProviderHealth } from '@kiln/contracts/views';
import {
  shot,
  signInAsAdmin,
  signUp,
  startStudioStack,
  type Person,
  type StudioStack,
} from './e2e/studioStack.ts';

const balanceOf = (page: Page) => page.getByTestId('balance').textContent();
const replayBalance = (page: Page) => page.getByTestId('replay-balance').textContent();

describe('billing, replay, timelines and admin in Chromium', () => {
  let stack: StudioStack;
  let cara: Person;
  let admin: Awaited<ReturnType<typeof signInAsAdmin>>;
  let jobPath: string;

  beforeAll(async () => {
    stack = await startStudioStack();
    cara = await signUp(stack, 'Cara');
    admin = await signInAsAdmin(stack, ADMIN);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const adminChange = async (change: 'Grant credits' | 'Adjust', amount: number, reason: string) => {
    await admin.page.goto(`${stack.web.url}/admin`);
    await admin.page.getByLabel('Account', { exact: true }).fill(cara.accountId);
    await admin.page.getByLabel(change, { exact: false }).check();
    await admin.page.getByLabel('Amount').fill(String(amount));
    await admin.page.getByLabel('Reason').fill(reason);
    await admin.page.getByRole('button', { name: 'Save' }).click();
    await admin.page.waitForURL(/\/admin\?changed=/);
    expect(await admin.page.getByText(/were changed/).textContent()).toContain(cara.accountId);
  };

  it('lets an admin grant credits, shown live in the person’s account menu', async () => {
    await expect.poll(() => cara.page.locator('.account-menu .live').textContent()).toBe('live');
    await adminChange('Grant credits', 10, 'welcome credits');
    await expect.poll(() => balanceOf(cara.page)).toBe('10 credits');

    // The admin page: every account audited, provider health, each projector's lag.
    const accounts = admin.page.getByRole('table', { name: 'Accounts and their audit' });
    expect(await accounts.textContent()).toContain(cara.accountId);
    expect(await admin.page.locator('.admin .message').nth(1).textContent()).toMatch(
      /^All \d+ accounts match/,
    );

    // Provider health as the provider's events left it. Replicate's breaker opened (recorded as the
    // provider runner records it); the local provider has recorded nothing, so its breaker is closed.
    await stack.command.store.appendToStream(providerStreamId('replicate'), [
      {
        id: newEventId(),
        type: 'ProviderBreakerOpened',
        data: { provider: 'replicate', consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
        metadata: {
          correlationId: 'provider-health-replicate',
          causationId: null,
          actor: { kind: 'system', id: 'provider-runner' },
          at: new Date().toISOString(),
        },
      },
    ]);
    const adminCookie = (await admin.context.cookies())
      .filter((cookie) => cookie.name === 'kiln_session')
      .map((cookie) => `kiln_session=${cookie.value}`)
      .join('');
    const recordedHealth = async () =>
      (await stack.query.get('/v1/admin/providers', adminCookie)).body.data as ProviderHealth[];
    await expect
      .poll(async () => (await recordedHealth()).map(({ provider, breaker }) => `${provider} ${breaker}`))
      .toEqual(['replicate open']);
    const lagOf = async () =>
      (await stack.query.get('/v1/projections', adminCookie)).body.data as ProjectorLag[];
    await expect.poll(async () => (await lagOf()).every((lag) => lag.caughtUp)).toBe(true);
    await admin.page.reload();
    const health = admin.page.getByRole('region', { name: 'Provider health' }).getByRole('listitem');
    const breakers = await health.evaluateAll((items) =>
      items.map((item) => [item.getAttribute('data-provider'), item.querySelector('.badge')?.textContent]),
    );
    expect(breakers).toContainEqual(['local', 'breaker closed']);
    expect(breakers).toContainEqual(['replicate', 'breaker open']);
    expect(await health.filter({ hasText: /^replicate/ }).textContent()).toContain('5 failures in a row');
    for (const recorded of await recordedHealth()) {
      expect(breakers).toContainEqual([recorded.provider, `breaker ${recorded.breaker}`]);
    }

    // Each projector's lag, as many events behind as the query service says: none, all caught up.
    const lagShown = await admin.page
      .getByRole('region', { name: 'Projection lag' })
      .getByRole('listitem')
      .evaluateAll((items) =>
        items.map((item) => ({
          projector: item.getAttribute('data-projector'),
          behind: /^(\d+) events? behind$/.exec(item.querySelector('.lag')?.textContent ?? '')?.[1],
          badge: item.querySelector('.badge')?.textContent,
        })),
      );
    const lag = await lagOf();
    expect(lag.length).toBeGreaterThanOrEqual(4);
    expect(lagShown).toEqual(
      lag.map((each) => ({
        projector: each.projector,
        behind: String(each.eventsBehind),
        badge: 'caught up',
      })),
    );
    expect(lagShown.every(({ behind }) => behind === '0')).toBe(true);
    await shot(admin.page, 'admin');

    // A bad amount is a message by the field, and nothing changes.
    await admin.page.getByLabel('Account', { exact: true }).fill(cara.accountId);
    await admin.page.getByLabel('Amount').fill('0');
    await admin.page.getByLabel('Reason').fill('nothing at all');
    await admin.page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => admin.page.getByRole('alert').first().textContent()).toContain('amount');
    expect(await balanceOf(cara.page)).toBe('10 credits');

    // Someone who is not an admin is told the page is not for them.
    const refused = await cara.page.goto(`${stack.web.url}/admin`);
    expect(refused?.status()).toBe(403);
    expect(await cara.page.getByRole('alert').textContent()).toBe('This page is for admins.');
  });

  it('shows the ledger, the audit and a replay to an earlier balance', async () => {
    await cara.page.goto(`${stack.web.url}/studio`);
    await cara.page.getByLabel('Prompt').fill('a ledger of embers');
    await cara.page.getByRole('button', { name: 'Create image' }).click();
    await cara.page.waitForURL(/\/studio\?after=/);
    const job = cara.page.getByRole('list', { name: 'My jobs' }).getByRole('listitem').first();
    await expect.poll(() => job.locator('.badge').textContent(), { timeout: 40_000 }).toBe('completed');
    jobPath = (await job.getByRole('link').getAttribute('href')) ?? '';
    await expect.poll(() => balanceOf(cara.page)).toBe('8 credits');

    await cara.page.goto(`${stack.web.url}/billing`);
    expect(await cara.page.getByTestId('audit').textContent()).toContain('The projection matches the events');
    const ledger = cara.page.getByRole('table', { name: 'Every change to your credits, newest first' });
    expect(
      await ledger
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-kind'))),
    ).toEqual(['captured', 'reserved', 'granted', 'opened']);
    expect(await ledger.textContent()).toContain('welcome credits');
    await shot(cara.page, 'billing');

    // The replay: at the last step the balance of now, then the slider back to just after the grant.
    expect(await replayBalance(cara.page)).toContain('8 credits available');
    await cara.page.locator('#replay-step').fill('2');
    await expect.poll(() => replayBalance(cara.page)).toMatch(/: 10 credits available, 0 credits reserved/);
    await cara.page.locator('#replay-step').fill('1');
    await expect.poll(() => replayBalance(cara.page)).toMatch(/: 0 credits available, 0 credits reserved/);
    await shot(cara.page, 'billing-replay');

    // Without JavaScript, the same replay by the form.
    const plain = await stack.browser.newContext({
      javaScriptEnabled: false,
      storageState: await cara.context.storageState(),
    });
    const page = await plain.newPage();
    await page.goto(`${stack.web.url}/billing?step=3`);
    expect(await replayBalance(page)).toContain('8 credits available, 2 credits reserved');
    await page.locator('#replay-step').fill('2');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/step=2/);
    expect(await replayBalance(page)).toContain('10 credits available');
    await plain.close();
  });

  it('scrubs through every event of a job and shows the state at each step', async () => {
    await cara.page.goto(`${stack.web.url}${jobPath}`);
    await cara.page.getByRole('link', { name: 'Timeline: every event of this job' }).click();
    await cara.page.waitForURL(/\/timeline$/);
    const state = cara.page.getByTestId('state-status');
    expect(await state.textContent()).toBe('completed');
    const events = cara.page.getByRole('list', { name: 'Every event' }).getByRole('listitem');
    const count = await events.count();
    expect(count).toBeGreaterThanOrEqual(6);
    await cara.page.locator('#timeline-step').fill('1');
    await expect.poll(() => state.textContent()).toBe('requested');
    await cara.page.getByRole('link', { name: 'Later →' }).click();
    await expect.poll(() => state.textContent()).toBe('submitted');
    await shot(cara.page, 'timeline');

    const plain = await stack.browser.newContext({
      javaScriptEnabled: false,
      storageState: await cara.context.storageState(),
    });
    const page = await plain.newPage();
    await page.goto(`${stack.web.url}${jobPath}/timeline?step=1`);
    expect(await page.getByTestId('state-status').textContent()).toBe('requested');
    await page.getByRole('link', { name: 'Later →' }).click();
    await page.waitForURL(/step=2/);
    expect(await page.getByTestId('state-status').textContent()).toBe('submitted');
    await plain.close();
  });

  it('lets an admin adjust a balance with a reason, which the ledger explains', async () => {
    await cara.page.goto(`${stack.web.url}/billing`);
    await adminChange('Adjust', -3, 'a correction for a test');
    await expect.poll(() => balanceOf(cara.page)).toBe('5 credits');
    await cara.page.goto(`${stack.web.url}/billing`);
    const newest = cara.page
      .getByRole('table', { name: 'Every change to your credits, newest first' })
      .locator('tbody tr')
      .first();
    expect(await newest.getAttribute('data-kind')).toBe('adjusted');
    expect(await newest.textContent()).toContain('a correction for a test');
    expect(await cara.page.getByTestId('audit').textContent()).toContain('matches');
  });

  it('fits a phone', async () => {
    const phone = await stack.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      storageState: await cara.context.storageState(),
    });
    const page = await phone.newPage();
    const pages = [
      ['/billing', 'billing-phone'],
      [`${jobPath}/timeline`, 'timeline-phone'],
      ['/sessions', 'sessions-phone'],
    ] as const;
    for (const [path, name] of pages) {
      await page.goto(`${stack.web.url}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
      await shot(page, name);
    }
    await phone.close();
    expect(cara.errors).toEqual([]);
  });
});
