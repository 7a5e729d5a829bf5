// The hub's resident memory, from its Prometheus endpoint (prom-client's default process metrics).
import { config } from './config.ts';
import { request, textOf } from './http.ts';

/** `process_resident_memory_bytes` of the hub; undefined when its /metrics cannot be read. */
export const readHubRss = (): number | undefined => {
  const answer = request({
    method: 'GET',
    url: config.hubMetricsUrl,
    token: '',
    name: 'GET hub /metrics',
    expect: [200],
  });
  const match = /^process_resident_memory_bytes(?:\{[^}]*\})? (\S+)$/m.exec(textOf(answer));
  return match ? Number(match[1]) : undefined;
};
