import { describe, expect, it } from 'vitest';
import { readEventStream } from '#src/sse.ts';

const streamOf = (chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });

const read = async (chunks: string[]) => {
  const messages = [];
  for await (const message of readEventStream(streamOf(chunks))) messages.push(message);
  return messages;
};

describe('reading a text/event-stream', () => {
  it('splits messages across chunk boundaries, with ids, event names and multi-line data', async () => {
    expect(
      await read([
        'retry: 1000\nid: 0001-0002\nevent: ev',
        'ent\ndata: {"a":\ndata: 1}\n',
        '\n: a comment\n\nevent: heartbeat\r\ndata: {}\r\n\r\n',
      ]),
    ).toEqual([
      { event: 'event', data: '{"a":\n1}', id: '0001-0002' },
      { event: 'heartbeat', data: '{}', id: undefined },
    ]);
  });

  it('drops a message the stream ended in the middle of', async () => {
    expect(await read(['event: event\ndata: {"a":1}\n\nevent: event\ndata: {"cut'])).toHaveLength(1);
  });
});
