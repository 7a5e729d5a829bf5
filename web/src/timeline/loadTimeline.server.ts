import { kiln, type Problem } from '../server/kiln.server.ts';

/** Pages of a timeline read for one page of the web app: 500 events, the most a person scrubs through. */
const MAX_PAGES = 10;

type TimelinePage<Entry> = { items: Entry[]; next: string | null; total: number; truncated: boolean };

export type LoadedTimeline<Entry> =
  | { ok: true; entries: Entry[]; total: number; cut: boolean }
  | { ok: false; status: number; problem: Problem };

/** Every entry of a job's or a session's timeline (`/v1/…/timeline`), page after page, up to a bound. */
export const loadTimeline = async <Entry>(path: string, request: Request): Promise<LoadedTimeline<Entry>> => {
  const entries: Entry[] = [];
  let cursor: string | null = null;
  let total = 0;
  let truncated = false;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const query = new URLSearchParams({ limit: '50' });
    if (cursor) query.set('cursor', cursor);
    const after = new URL(request.url).searchParams.get('after');
    if (after) query.set('after', after);
    const answer = await kiln().query<TimelinePage<Entry>>(`${path}?${query.toString()}`, { request });
    if (!answer.ok) return { ok: false, status: answer.status, problem: answer.problem };
    entries.push(...answer.data.items);
    total = answer.data.total;
    truncated = answer.data.truncated;
    cursor = answer.data.next;
    if (!cursor) break;
  }
  return { ok: true, entries, total, cut: truncated || entries.length < total };
};

/** The step a page asks for (`?step=`, 1 for the first event), the last one by default. */
export const stepOf = (request: Request, count: number): number => {
  const asked = new URL(request.url).searchParams.get('step');
  if (asked === null || !/^\d+$/.test(asked)) return count;
  return Math.min(Math.max(Number(asked), 1), count);
};
