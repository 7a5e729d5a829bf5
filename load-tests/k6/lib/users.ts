// Set-up through the public API, as an operator's programs would do it: people sign up, each makes an API
// token (k6 speaks with bearer tokens), and the admin grants them credits with an idempotency key.
import http from 'k6/http';
import { config } from './config.ts';
import { dataOf, inChunks, requestAll, textOf } from './http.ts';

export type LoadUser = { email: string; userId: string; accountId: string; token: string };

const SESSION_COOKIE = 'kiln_session';

/** `count` new users named after the run and the scenario, each with `credits` granted (none when 0). */
export const signUpUsers = (scenario: string, count: number, credits: number): LoadUser[] => {
  const users: LoadUser[] = [];
  for (const chunk of inChunks(
    Array.from({ length: count }, (_, index) => index),
    10,
  )) {
    const emails = chunk.map((index) => `load-${config.runId}-${scenario}-${index}@kiln.test`);
    http.cookieJar().clear(config.commandUrl);
    const signedUp = requestAll(
      emails.map((email) => ({
        method: 'POST',
        url: `${config.commandUrl}/v1/accounts/sign-up`,
        token: '',
        name: 'POST /v1/accounts/sign-up',
        expect: [201],
        body: { email, password: `load-password-${config.runId}`, displayName: email.split('@')[0] },
      })),
    );
    // The session cookies only serve to make each user's API token; the jar must not mix them up.
    http.cookieJar().clear(config.commandUrl);
    const people = signedUp.map((answer, index) => {
      const user = dataOf<{ user: { id: string; accountId: string } }>(answer)?.user;
      const cookie = answer.cookies[SESSION_COOKIE]?.[0]?.value;
      if (!user || !cookie) throw new Error(`sign-up failed: ${answer.status} ${textOf(answer)}`);
      return { email: emails[index] ?? '', userId: user.id, accountId: user.accountId, cookie };
    });
    const tokens = requestAll(
      people.map((person) => ({
        method: 'POST',
        url: `${config.commandUrl}/v1/accounts/tokens`,
        token: '',
        name: 'POST /v1/accounts/tokens',
        expect: [201],
        body: { name: 'k6' },
        headers: { cookie: `${SESSION_COOKIE}=${person.cookie}` },
      })),
    );
    http.cookieJar().clear(config.commandUrl);
    people.forEach((person, index) => {
      const answer = tokens[index];
      const token = answer ? dataOf<{ token: string }>(answer)?.token : undefined;
      if (!token) throw new Error(`no API token for ${person.email}`);
      users.push({ email: person.email, userId: person.userId, accountId: person.accountId, token });
    });
  }
  if (credits > 0) grantCredits(users, credits, `${scenario}-start`);
  return users;
};

/** The admin grants each user `amount` credits, once per `purpose` (the idempotency key says so). */
export const grantCredits = (users: LoadUser[], amount: number, purpose: string): void => {
  for (const chunk of inChunks(users, 20)) {
    requestAll(
      chunk.map((user) => ({
        method: 'POST',
        url: `${config.commandUrl}/v1/admin/accounts/${user.accountId}/grants`,
        token: config.adminToken,
        name: 'POST /v1/admin/accounts/:id/grants',
        expect: [200],
        headers: { 'idempotency-key': `grant-${config.runId}-${purpose}-${user.accountId}` },
        body: { amount, reason: `load test credits (${purpose})` },
      })),
    );
  }
};
