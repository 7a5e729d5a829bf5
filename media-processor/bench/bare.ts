#!/usr/bin/env node
// The baseline's own process: the same variants from the same inputs with sharp alone, `concurrency` at a
// time, so its peak RSS is measured apart from the bench's. Prints { imagesPerSecond, peakRssMb } as JSON.
import { readFileSync } from 'node:fs';
import { bareVariants } from '#src/pipeline/bareSharp.ts';
import { configureSharp } from '#src/pipeline/variants.ts';

const [urlsFile = '', concurrencyText = '2', sharpConcurrencyText = '1'] = process.argv.slice(2);
const urls = JSON.parse(readFileSync(urlsFile, 'utf8')) as string[];
configureSharp({ concurrency: Number(sharpConcurrencyText) });
const inputs = await Promise.all(
  urls.map(async (url) => Buffer.from(await (await fetch(url)).arrayBuffer())),
);

const began = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Number(concurrencyText) }, async () => {
    while (next < inputs.length) {
      const input = inputs[next++];
      if (input) await bareVariants(input);
    }
  }),
);
const seconds = (performance.now() - began) / 1000;
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
console.log(JSON.stringify({ imagesPerSecond: inputs.length / seconds, peakRssMb: peakKb / 1024 }));
