import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';

// Real image files, byte for byte. A 1×1 RGBA PNG, a 1×1 GIF89a, and a 16×16 baseline JFIF JPEG and a
// 16×16 WebP (CPython's test images, Lib/test/test_email/data/python.{jpg,webp}).
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQ' +
    'CgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ' +
    'EBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQIDBAYFBwgSExEi' +
    'ABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/2gAMAwEAAhEDEQA/' +
    'ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx4ks51+MiU/Iaad7UcUo4' +
    'tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+Vb4N9mKhQMzo5po9XLdDs9d6' +
    'ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolvw4KOp1KM6iCNvngZHwetf//Z',
  'base64',
);
const WEBP = Buffer.from(
  'UklGRqgBAABXRUJQVlA4WAoAAAAQAAAADwAADwAAQUxQSMMAAAABJ6KokSTleucYX+ffKpmImP90cY3gJjDi4Yt3MsjBEVyDKzDosHgV' +
    'jnhRNcEIDAJPkqBqsFUZHNa2bUYvTsZ2PLbtd/uvKa4hov9J0f2PkPe6REkkGzolkTTzFG0Ox9PlFiD0CxS+kOGDtxoynjaCfx0pfk52' +
    'CPuInrOR75lzRugygtv4zEiy90UwfSD9NheMITJWLaXWayO8XeOlWRXVnIGk2W6WdYoYMQ+KqixQNPowgt+6a1BSKbUtz+lUFAoBAAAA' +
    'VlA4IL4AAACQAgCdASoQABAAAwA0JbACdDBPCIUMfAMdCCz96AD+/XSg/QKbH4r3Q3ycN/bSDK/T/zVo4u6nvclvG/SqxWOuup+XhN9B' +
    'ojvaW+Tv+MvxvX/hr/o/5Qns9LtmX/+qKdl/yWznhuasl7nkxvSTI4xf3Y85VSB/lU/8Ofj/b9JrA+ifvIOYZm2x1RP/dhfmsf5diuSf' +
    'R7+z+r/+HR3zEo/+XM/B+vkYw73Pzx+ROaAB/ZoBSzEs3rzZe6qsAAAA',
  'base64',
);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

type Part = { name: string; bytes: Buffer; type?: string };

const formOf = (parts: Part[]) => {
  const form = new FormData();
  for (const part of parts)
    form.append(
      'files',
      new Blob([new Uint8Array(part.bytes)], { type: part.type ?? 'application/octet-stream' }),
      part.name,
    );
  return form;
};

let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
});
afterAll(async () => kiln.stop());

type Person = Awaited<ReturnType<CommandServiceUnderTest['signUp']>>;

const upload = (cookie: string, parts: Part[]) =>
  kiln.call('POST', '/v1/uploads', { cookie, raw: formOf(parts) });

const incoming = () => readdir(join(kiln.mediaDir, 'incoming'));
/** What is kept for the user: file names in `MEDIA_DIR/inputs/<userId>` (none when the folder was never made). */
const keptFor = async (userId: string) =>
  readdir(join(kiln.mediaDir, 'inputs', userId)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });

const fluxRequest = (inputFileIds: string[], modelId = 'flux-dev') => ({
  request: {
    kind: 'image',
    modelId,
    prompt: 'the same vase, glazed blue',
    width: 512,
    height: 512,
    count: 1,
  },
  inputFileIds,
});
// flux-dev at 512×512: one image × (5 + 1 started megapixel × 2) = 7 credits.
const FLUX_COST = 7;

const requestJob = (person: Person, body: unknown) =>
  kiln.call('POST', '/v1/jobs', {
    cookie: person.cookie,
    headers: { 'idempotency-key': randomUUID() },
    body,
  });

describe('POST /v1/uploads', () => {
  it('keeps real images and describes each by its bytes', async () => {
    const { cookie, user } = await kiln.signUp();
    const answer = await upload(cookie, [
      { name: 'vase.png', bytes: PNG, type: 'image/png' },
      // Declared types and names are not trusted: the JPEG comes as "octet-stream" named .bin.
      { name: 'kiln.bin', bytes: JPEG },
      { name: 'dot.gif', bytes: GIF, type: 'image/gif' },
      { name: 'python.webp', bytes: WEBP, type: 'image/webp' },
    ]);
    expect(answer.status).toBe(201);
    expect(answer.body.ok).toBe(true);
    const files = answer.body.data.files as {
      fileId: string;
      contentType: string;
      size: number;
      sha256: string;
    }[];
    expect(files).toEqual([
      {
        fileId: expect.stringMatching(/^f_[0-9a-f]{32}$/),
        contentType: 'image/png',
        size: PNG.length,
        sha256: sha256(PNG),
      },
      { fileId: expect.any(String), contentType: 'image/jpeg', size: JPEG.length, sha256: sha256(JPEG) },
      { fileId: expect.any(String), contentType: 'image/gif', size: GIF.length, sha256: sha256(GIF) },
      { fileId: expect.any(String), contentType: 'image/webp', size: WEBP.length, sha256: sha256(WEBP) },
    ]);
    expect(new Set(files.map((file) => file.fileId)).size).toBe(4);

    // The bytes streamed through the incoming folder into the user's own, unchanged.
    expect(await incoming()).toEqual([]);
    const kept = await keptFor(user.id);
    expect(kept.sort()).toEqual(files.flatMap((file) => [file.fileId, `${file.fileId}.json`]).sort());
    expect(await readFile(join(kiln.mediaDir, 'inputs', user.id, files[1]!.fileId))).toEqual(JPEG);
  });

  it('refuses a file whose bytes are not an image (415, naming it) and keeps none of the upload', async () => {
    const { cookie, user } = await kiln.signUp();
    const answer = await upload(cookie, [
      { name: 'real.png', bytes: PNG, type: 'image/png' },
      { name: 'x.png', bytes: Buffer.from('just some text, not a picture\n'), type: 'image/png' },
    ]);
    expect(answer.status).toBe(415);
    expect(answer.body.error).toMatchObject({
      code: 'unsupported_media_type',
      message: expect.stringContaining('x.png'),
      details: { file: 'x.png', detected: 'unknown' },
    });
    expect(await incoming()).toEqual([]);
    expect(await keptFor(user.id)).toEqual([]);

    const pdf = await upload(cookie, [
      { name: 'y.gif', bytes: Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'), type: 'image/gif' },
    ]);
    expect(pdf.status).toBe(415);
    expect(pdf.body.error.details).toEqual({ file: 'y.gif', detected: 'application/pdf' });
    expect(await incoming()).toEqual([]);
    expect(await keptFor(user.id)).toEqual([]);
  });

  it('refuses a file over 10 MB with 413 and leaves nothing behind', async () => {
    const { cookie, user } = await kiln.signUp();
    // A PNG signature followed by 11 MB: refused for its size, not its type.
    const big = Buffer.concat([PNG, Buffer.alloc(11 * 1024 * 1024, 7)]);
    const answer = await upload(cookie, [{ name: 'huge.png', bytes: big, type: 'image/png' }]);
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
    expect(answer.body.error.details).toEqual({ field: 'files' });
    expect(await incoming()).toEqual([]);
    expect(await keptFor(user.id)).toEqual([]);
  });

  it('takes 14 files at once, and refuses 15 with 413', async () => {
    const { cookie, user } = await kiln.signUp();
    const parts = (count: number) =>
      Array.from({ length: count }, (_, index) => ({
        name: `dot-${index}.png`,
        bytes: PNG,
        type: 'image/png',
      }));
    const fifteen = await upload(cookie, parts(15));
    expect(fifteen.status).toBe(413);
    expect(fifteen.body.error.code).toBe('payload_too_large');
    expect(await incoming()).toEqual([]);
    expect(await keptFor(user.id)).toEqual([]);

    const fourteen = await upload(cookie, parts(14));
    expect(fourteen.status).toBe(201);
    expect(fourteen.body.data.files).toHaveLength(14);
    expect(await incoming()).toEqual([]);
  });

  it('needs at least one file (400)', async () => {
    const { cookie } = await kiln.signUp();
    const empty = await kiln.call('POST', '/v1/uploads', { cookie, raw: new FormData() });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('validation_failed');
    const noBody = await kiln.call('POST', '/v1/uploads', { cookie });
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.code).toBe('validation_failed');
    expect(noBody.body.error.message).toContain('"files"');
    // A file in another field is no file in "files".
    const elsewhere = new FormData();
    elsewhere.append('image', new Blob([new Uint8Array(PNG)], { type: 'image/png' }), 'a.png');
    const wrongField = await kiln.call('POST', '/v1/uploads', { cookie, raw: elsewhere });
    expect(wrongField.status).toBe(400);
    expect(await incoming()).toEqual([]);
  });

  it('asks for sign-in (401) before reading any bytes', async () => {
    const answer = await kiln.call('POST', '/v1/uploads', {
      raw: formOf([{ name: 'vase.png', bytes: PNG, type: 'image/png' }]),
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthenticated');
    expect(await incoming()).toEqual([]);
  });
});

describe('POST /v1/jobs with inputFileIds', () => {
  it('records the uploaded files, as checked, in the JobRequested event', async () => {
    const person = await kiln.signUp();
    const [file] = (await upload(person.cookie, [{ name: 'vase.png', bytes: PNG, type: 'image/png' }])).body
      .data.files;
    await kiln.grant(person.user.accountId, 20);
    const answer = await requestJob(person, fluxRequest([file.fileId]));
    expect(answer.status).toBe(202);
    expect(answer.body.data.cost).toBe(FLUX_COST);
    const [requested, ...rest] = await kiln.store.readStream(jobStreamId(answer.body.data.jobId));
    expect(rest).toEqual([]);
    expect(requested?.type).toBe('JobRequested');
    expect(requested?.type === 'JobRequested' ? requested.data.inputs : undefined).toEqual([
      { fileId: file.fileId, contentType: 'image/png', size: PNG.length, sha256: sha256(PNG) },
    ]);
  });

  it("refuses another user's file with 400 naming it, and reserves nothing", async () => {
    const owner = await kiln.signUp();
    const [file] = (await upload(owner.cookie, [{ name: 'vase.png', bytes: PNG, type: 'image/png' }])).body
      .data.files;
    const thief = await kiln.signUp();
    await kiln.grant(thief.user.accountId, 20);
    const answer = await requestJob(thief, fluxRequest([file.fileId]));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining(file.fileId),
      details: { fileId: file.fileId },
    });
    expect((await kiln.store.readStream(billingStreamId(thief.user.accountId))).map((e) => e.type)).toEqual([
      'BillingAccountOpened',
      'CreditsGranted',
    ]);
  });

  it('refuses input files for a model that takes none (400)', async () => {
    const person = await kiln.signUp();
    const [file] = (await upload(person.cookie, [{ name: 'vase.png', bytes: PNG, type: 'image/png' }])).body
      .data.files;
    await kiln.grant(person.user.accountId, 20);
    const answer = await requestJob(person, fluxRequest([file.fileId], 'kiln-local-image'));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.details.problems).toEqual(['kiln-local-image takes at most 0 input files']);
    expect((await kiln.store.readStream(billingStreamId(person.user.accountId))).map((e) => e.type)).toEqual([
      'BillingAccountOpened',
      'CreditsGranted',
    ]);
  });
});
