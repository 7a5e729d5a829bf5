import { describe, expect, it } from 'vitest';
import { BillingEvent } from '#src/billing/events.ts';
import { EventRejected, KilnEvent, parseEventForStream, type KilnEventType } from '#src/events.ts';
import { JobEvent } from '#src/job/events.ts';
import { ProviderEvent } from '#src/provider/events.ts';
import { SessionEvent } from '#src/session/events.ts';
import type { StreamFamily } from '#src/streams.ts';
import { exampleData, exampleEvent } from '#src/testing/exampleEvents.ts';

/** Each family's union, a stream of it, and the field every event of it names its entity by. */
const families = {
  job: { union: JobEvent, streamId: 'job-job1', entityField: 'jobId' },
  billing: { union: BillingEvent, streamId: 'billing-acc1', entityField: 'accountId' },
  provider: { union: ProviderEvent, streamId: 'provider-fal', entityField: 'provider' },
  session: { union: SessionEvent, streamId: 'session-s1', entityField: 'sessionId' },
} as const;

const typesOf = (family: StreamFamily): KilnEventType[] =>
  families[family].union.options.map((option) => option.shape.type.value);

const withData = (type: KilnEventType, data: Record<string, unknown>) => ({ ...exampleEvent(type), data });

describe('every event type of every stream family', () => {
  it('covers KilnEvent: its families are these four, and every type of them has an example', () => {
    expect(new Set(KilnEvent.options)).toEqual(
      new Set(Object.values(families).map((family) => family.union)),
    );
    const familyTypes = (Object.keys(families) as StreamFamily[]).flatMap(typesOf);
    expect(Object.keys(exampleData).toSorted()).toEqual(familyTypes.toSorted());
  });

  for (const family of Object.keys(families) as StreamFamily[]) {
    const { union, streamId, entityField } = families[family];
    const otherStreams = Object.values(families)
      .map((other) => other.streamId)
      .filter((other) => other !== streamId);

    describe(`${family} events`, () => {
      it.each(typesOf(family))('%s parses, in its family and as a KilnEvent, unchanged', (type) => {
        const event = exampleEvent(type);
        expect(union.parse(event)).toEqual(event);
        expect(KilnEvent.parse(event)).toEqual(event);
        expect(parseEventForStream(streamId, event)).toEqual(event);
      });

      it.each(typesOf(family))('%s is refused with a field unknown, missing or of the wrong type', (type) => {
        const data: Record<string, unknown> = exampleData[type];
        const { [entityField]: entity, ...withoutEntity } = data;
        expect(entity).toBeDefined();
        const malformed = [
          withData(type, { ...data, unplanned: true }),
          withData(type, withoutEntity),
          withData(type, { ...data, [entityField]: 42 }),
          withData(type, { ...data, [entityField]: 'not an id!' }),
          { ...exampleEvent(type), metadata: { ...exampleEvent(type).metadata, correlationId: '' } },
          { ...exampleEvent(type), id: 'not-a-uuid' },
        ];
        for (const event of malformed) {
          expect(union.safeParse(event).success).toBe(false);
          expect(() => parseEventForStream(streamId, event)).toThrow(EventRejected);
        }
      });

      it.each(typesOf(family))('%s is refused in a stream of another family', (type) => {
        for (const other of otherStreams)
          expect(() => parseEventForStream(other, exampleEvent(type))).toThrow(EventRejected);
      });
    });
  }
});
