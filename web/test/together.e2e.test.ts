// Two people in one shared session, each in their own Chromium context, against every real service: an
// invite link, presence, a job appearing and progressing live on both pages, a hub killed mid-job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { jobStreamId } from '@kiln/contracts/streams';
import type { SessionTimelinePage } from '@kiln/contracts/views/timeline';
import { statusLabel } from '../src/jobs/status.ts';
import { shot, signUp, startStudioStack, type Person, type StudioStack } from './e2e/studioStack.ts';

const watchersOf = (page: Page) => page.getByTestId('watchers').textContent();
const sessionJob = (page: Page, prompt: string) =>
  page.getByRole('list', { name: 'Jobs of the session' }).getByRole('listitem').filter({ hasText: prompt });

describe('a shared session in Chromium', () => {
  let stack: StudioStack;
  let ana: Person;
  let ben: Person;
  let sessionUrl: string;

  beforeAll(async () => {
    stack = await startStudioStack();
    [ana, ben] = await Promise.all([signUp(stack, 'Ana'), signUp(stack, 'Ben')]);
    await Promise.all([stack.command.grant(ana.accountId, 20), stack.command.grant(ben.accountId, 20)]);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('is opened, shared by a link and joined; each sees the other watching', async () => {
    await ana.page.goto(`${stack.web.url}/sessions`);
    await ana.page.getByLabel('Name a new session').fill('Dusk series');
    await ana.page.getByRole('button', { name: 'Open session' }).click();
    await ana.page.waitForURL(/\/sessions\/[^/?]+/);
    sessionUrl = ana.page.url().split('?')[0] ?? '';
    await expect.poll(() => ana.page.getByRole('heading', { level: 1 }).textContent()).toBe('Dusk series');
    await expect.poll(() => watchersOf(ana.page)).toContain('Watching now: Ana (you)');

    await ana.page.getByRole('button', { name: 'Invite someone' }).click();
    const link = await ana.page.getByLabel(/^Invite link/).inputValue();
    expect(link).toMatch(new RegExp(`^${stack.web.url}/join\\?token=.+`));
    await ana.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.web.url });
    await ana.page.getByRole('button', { name: 'Copy link' }).click();
    await expect.poll(() => ana.page.evaluate(() => navigator.clipboard.readText())).toBe(link);

    await ben.page.goto(link);
    await shot(ben.page, 'join');
    await ben.page.getByRole('button', { name: 'Join the session' }).click();
    await ben.page.waitForURL(new RegExp(`^${sessionUrl}`));
    await expect.poll(() => watchersOf(ben.page)).toMatch(/Watching now: .*Ana/);
    expect(await watchersOf(ben.page)).toContain('Ben (you)');
    // Ana's page learns of Ben by itself: presence from the hub, and the membership event.
    await expect.poll(() => watchersOf(ana.page)).toContain('Ben');
    await expect
      .poll(() => ana.page.getByRole('heading', { name: /^Members/ }).textContent())
      .toBe('Members (2)');

    // A link that names no invite says so, and lets nobody in.
    await ben.page.goto(`${stack.web.url}/join?token=not-a-real-invite-token`);
    await ben.page.getByRole('button', { name: 'Join the session' }).click();
    await expect.poll(() => ben.page.getByRole('alert').textContent()).toContain('does not work');
  });

  it('shows a job one member adds appear and progress live on every member’s page', async () => {
    await ben.page.goto(sessionUrl);
    const loadedAt = await ana.page.evaluate(() => performance.timeOrigin);
    await ben.page.getByLabel('Prompt').fill('embers over the lake');
    await ben.page.getByRole('button', { name: 'Add a job' }).click();
    await ben.page.waitForURL(new RegExp(`^${sessionUrl}\\?after=`));

    // On Ana's page it appears without a reload, then moves on to completed with its thumbnail.
    const onAna = sessionJob(ana.page, 'embers over the lake');
    await expect.poll(() => onAna.count()).toBe(1);
    const seenStatuses = new Set<string>();
    await expect
      .poll(
        async () => {
          const status = (await onAna.locator('.badge').textContent()) ?? '';
          seenStatuses.add(status);
          return status;
        },
        { timeout: 40_000, interval: 50 },
      )
      .toBe('completed');
    expect([...seenStatuses].some((status) => ['submitted', 'running', 'finishing'].includes(status))).toBe(
      true,
    );
    await expect
      .poll(() => onAna.locator('img.job-cover').evaluate((image: HTMLImageElement) => image.naturalWidth))
      .toBeGreaterThan(0);
    expect(await ana.page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);
    await expect
      .poll(() => sessionJob(ben.page, 'embers over the lake').locator('.badge').textContent(), {
        timeout: 40_000,
      })
      .toBe('completed');
    await shot(ana.page, 'session');
    expect(ana.errors).toEqual([]);
    expect(ben.errors).toEqual([]);
  });

  it('scrubs the session’s timeline back to before its job was added, and through the job’s steps', async () => {
    const sessionId = sessionUrl.split('/').at(-1) ?? '';
    await ana.page.goto(sessionUrl);
    await ana.page.getByRole('link', { name: 'Timeline of the session' }).click();
    await ana.page.waitForURL(`${sessionUrl}/timeline`);
    const { body } = await stack.query.get(`/v1/sessions/${sessionId}/timeline?limit=50`, ana.cookie);
    const timeline = body.data as SessionTimelinePage;
    const types = timeline.items.map((entry) => entry.event.type);
    // The session's events and its job's, in order: opened (and joined by Ana), Ben joined, the job added
    // and run to the end.
    expect(timeline.next).toBeNull();
    expect(types.slice(0, 2)).toEqual(['SessionOpened', 'SessionMemberJoined']);
    expect(types.lastIndexOf('SessionMemberJoined')).toBeGreaterThan(1);
    expect(types.at(-1)).toBe('JobCompleted');
    const added = types.indexOf('SessionJobAdded') + 1;
    expect(added).toBeGreaterThan(2);
    const events = ana.page.getByRole('list', { name: 'Every event' }).getByRole('listitem');
    expect(await events.count()).toBe(types.length);

    const summary = ana.page.getByTestId('timeline-state').locator('p').first();
    const job = ana.page.getByTestId('timeline-state').getByRole('listitem');
    const label = ana.page.locator('label[for="timeline-step"]');
    // The last step, where the page opens: both members, the job completed.
    expect(await label.textContent()).toBe(`Event ${types.length} of ${types.length}: completed`);
    expect(await summary.textContent()).toBe('Dusk series: 2 members, 1 job');
    expect(await job.textContent()).toBe('embers over the lake: completed');

    // Back to the second event, the opener joining her session: Ana alone, no job yet.
    await ana.page.locator('#timeline-step').fill('2');
    await expect.poll(() => label.textContent()).toBe(`Event 2 of ${types.length}: Ana joined`);
    expect(await summary.textContent()).toBe('Dusk series: 1 member, 0 jobs');
    expect(await job.count()).toBe(0);
    // Just before the job was added: Ben is in, still no job.
    await ana.page.locator('#timeline-step').fill(String(added - 1));
    await expect.poll(() => summary.textContent()).toBe('Dusk series: 2 members, 0 jobs');
    expect(await job.count()).toBe(0);
    // One step later the job is there, not completed: as its events had left it then.
    await ana.page.getByRole('link', { name: 'Later →' }).click();
    await expect.poll(() => label.textContent()).toBe(`Event ${added} of ${types.length}: a job was added`);
    expect(await summary.textContent()).toBe('Dusk series: 2 members, 1 job');
    const addedStatus = timeline.items[added - 1]?.state.jobs[0]?.status;
    expect(addedStatus).toBeDefined();
    expect(addedStatus).not.toBe('completed');
    expect(await job.locator('.badge').textContent()).toBe(statusLabel[addedStatus ?? 'completed']);
    await shot(ana.page, 'session-timeline');
    await ana.page.getByRole('link', { name: '← Earlier' }).click();
    await expect.poll(() => summary.textContent()).toBe('Dusk series: 2 members, 0 jobs');

    // Every step after it shows the job's status as the events had it, reaching completed only at the end.
    for (let step = added; step <= types.length; step += 1) {
      const status = timeline.items[step - 1]?.state.jobs[0]?.status ?? 'completed';
      await ana.page.locator('#timeline-step').fill(String(step));
      await expect
        .poll(() => job.locator('.badge').textContent(), { message: `step ${step}` })
        .toBe(statusLabel[status]);
      if (step < types.length) expect(status).not.toBe('completed');
    }
    expect(ana.errors).toEqual([]);
  });

  it('resumes a job’s page after its WebSocket is killed mid-job, with no step missing or repeated', async () => {
    await ana.page.goto(sessionUrl);
    await ana.page.getByLabel('Prompt').fill('through a dead socket');
    await ana.page.getByRole('button', { name: 'Add a job' }).click();
    await ana.page.waitForURL(new RegExp(`^${sessionUrl}\\?after=`));
    await sessionJob(ana.page, 'through a dead socket').getByRole('link').click();
    await ana.page.waitForURL(/\/jobs\/[^/?]+$/);
    const jobId = decodeURIComponent(new URL(ana.page.url()).pathname.split('/').at(-1) ?? '');
    const feed = ana.page.getByTestId('job-feed');
    await expect.poll(() => feed.textContent()).toBe('live');
    const activity = ana.page.getByRole('list', { name: 'As it happened' }).getByRole('listitem');
    await expect.poll(() => activity.count(), { timeout: 30_000, interval: 50 }).toBeGreaterThan(0);

    // kill -9: the socket drops without a close frame while the provider keeps reporting progress.
    await stack.hub.kill();
    await expect.poll(() => feed.textContent()).toBe('reconnecting…');
    const beforeKill = await activity.count();
    await stack.hub.start();
    await expect
      .poll(() => ana.page.getByTestId('job-status').textContent(), { timeout: 40_000 })
      .toBe('completed');

    const shown = await activity.evaluateAll((items) =>
      items.map((item) => item.getAttribute('data-position')),
    );
    const stored = (await stack.command.store.readStream(jobStreamId(jobId))).map((event) => event.position);
    expect(new Set(shown).size).toBe(shown.length);
    // Every event after the first one the page was handed, exactly once and in order, across the outage.
    expect(shown).toEqual(stored.slice(stored.indexOf(shown[0] ?? '')));
    expect(shown.length).toBeGreaterThan(beforeKill);
    expect(ana.errors).toEqual([]);
  });

  it('forgets a member who leaves: presence and membership follow on the others’ pages', async () => {
    await ana.page.goto(sessionUrl);
    await ben.page.goto(sessionUrl);
    await expect.poll(() => watchersOf(ana.page)).toContain('Ben');
    await ben.page.getByRole('button', { name: 'Leave the session' }).click();
    await ben.page.waitForURL(new RegExp(`^${stack.web.url}/sessions`));
    await expect.poll(() => watchersOf(ana.page)).not.toContain('Ben');
    await expect
      .poll(() => ana.page.getByRole('heading', { name: /^Members/ }).textContent())
      .toBe('Members (1)');
    const again = await ben.page.goto(sessionUrl);
    expect(again?.status()).toBe(404);
    expect(await ben.page.getByRole('heading', { level: 1 }).textContent()).toBe('Session not found');
  });
});
