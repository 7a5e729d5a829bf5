import { z } from 'zod';
import { pageOf, SessionView } from '#src/views/readModels.ts';

/** A session I am a member of, with when I joined it (`GET /v1/sessions`, newest first). */
export const MySessionView = SessionView.extend({ joinedAt: z.iso.datetime({ offset: true }) });
export type MySessionView = z.infer<typeof MySessionView>;

export const MySessionsPage = pageOf(MySessionView);
export type MySessionsPage = z.infer<typeof MySessionsPage>;
