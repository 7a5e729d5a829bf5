/** One message of a text/event-stream. */
export type SseMessage = { event: string; data: string; id: string | undefined };

/**
 * Splits a text/event-stream body into messages as bytes arrive (the parts of the format Kiln's hub uses:
 * `event`, `data`, `id`, comments). Works on `fetch` in browsers and in Node, which, unlike EventSource,
 * can send an Authorization header and a Last-Event-ID of our choosing.
 */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffered = '';
  let message: { event: string; data: string[]; id: string | undefined } = {
    event: 'message',
    data: [],
    id: undefined,
  };
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline).replace(/\r$/, '');
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        if (line === '') {
          if (message.data.length > 0)
            yield { event: message.event, data: message.data.join('\n'), id: message.id };
          message = { event: 'message', data: [], id: undefined };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') message.event = value;
        else if (field === 'data') message.data.push(value);
        else if (field === 'id') message.id = value;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
