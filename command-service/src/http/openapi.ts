import { createDocument } from 'zod-openapi';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { z } from 'zod';
import { ErrorEnvelope, httpStatusOfErrorCode } from '@kiln/contracts/http/envelope';
import { IdempotencyKey } from '#src/http/mount.ts';
import { routes } from '#src/http/contracts.ts';
import { openApiPath, type RouteContract } from '#src/http/route.ts';

const signedIn = () => [{ session: [] as string[] }, { bearer: [] as string[] }];
const security: Record<RouteContract['access'], () => Array<Record<string, string[]>>> = {
  user: signedIn,
  admin: signedIn,
  anyone: () => [],
  'signed-webhook': () => [{ webhookSignature: [] }],
};

const operationOf = (route: RouteContract): ZodOpenApiOperationObject => {
  const errorStatuses = [...new Set(route.errors.map((code) => httpStatusOfErrorCode[code]))];
  const header = route.idempotent ? z.object({ 'idempotency-key': IdempotencyKey }) : undefined;
  const body =
    route.bodyKind === 'multipart'
      ? {
          'multipart/form-data': {
            schema: z.object({ files: z.array(z.string().meta({ format: 'binary' })) }),
          },
        }
      : route.body
        ? { 'application/json': { schema: route.body } }
        : undefined;
  return {
    summary: route.summary,
    security: security[route.access](),
    ...(route.params || header
      ? {
          requestParams: {
            ...(route.params ? { path: route.params as z.ZodObject } : {}),
            ...(header ? { header } : {}),
          },
        }
      : {}),
    ...(body ? { requestBody: { required: true, content: body } } : {}),
    responses: {
      [route.success.status]: {
        description: route.success.description,
        content: {
          'application/json': { schema: z.object({ ok: z.literal(true), data: route.success.data }) },
        },
      },
      ...Object.fromEntries(
        errorStatuses.map((status) => [
          status,
          {
            description: route.errors.filter((code) => httpStatusOfErrorCode[code] === status).join(', '),
            content: { 'application/json': { schema: ErrorEnvelope } },
          },
        ]),
      ),
      500: { description: 'internal', content: { 'application/json': { schema: ErrorEnvelope } } },
    },
  };
};

/** The OpenAPI 3.1 document of the command API, generated from the same route contracts that validate requests. */
export const openApiDocument = () => {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of Object.values(routes) as RouteContract[]) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operationOf(route) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Kiln command API',
      version: '1.0.0',
      description: 'The write side of Kiln. Every answer is { ok, data } or { ok: false, error }.',
    },
    paths,
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'kiln_session' },
        bearer: { type: 'http', scheme: 'bearer', description: 'an API token, kiln_…' },
        webhookSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'webhook-signature',
          description: 'Standard Webhooks',
        },
      },
    },
  });
};
