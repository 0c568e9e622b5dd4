// Baselines the benchmark runs as child processes over the same bytes as the connector:
//   parse-array FILE   A: JSON.parse(gunzipSync(file)), count the elements (the in-memory limit)
//   parse-ndjson FILE  A for NDJSON: gunzipSync, split lines, JSON.parse each
//   jsonstream FILE    B: file → gunzip → JSONStream.parse('*'), count
//   gunzip-cat FILE    C: file → gunzip → stdout, no parsing (the physical limit of the path)
//   axios-loop URL KEY PAGES  PersistIQ pages fetched with plain axios, raw records written as RECORD lines
//   writer COUNT       the connector's OutputWriter alone: COUNT RECORD lines of ~250 bytes
import { createReadStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';

// Each mode loads only what it uses: a baseline that loaded axios (about 60 ms) would look slower
// than it is, and the connector's ratio to it better.

async function main(mode: string, args: string[]): Promise<void> {
  switch (mode) {
    case 'parse-array': {
      const events = JSON.parse(gunzipSync(readFileSync(args[0])).toString('utf8')) as unknown[];
      process.stdout.write(`${events.length}\n`);
      return;
    }
    case 'parse-ndjson': {
      let count = 0;
      for (const line of gunzipSync(readFileSync(args[0])).toString('utf8').split('\n')) if (line !== '' && JSON.parse(line)) count++;
      process.stdout.write(`${count}\n`);
      return;
    }
    case 'jsonstream': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const JSONStream = require('JSONStream') as { parse(path: string): NodeJS.ReadWriteStream };
      let count = 0;
      await pipeline(createReadStream(args[0]), createGunzip(), JSONStream.parse('*'), async (source: AsyncIterable<unknown>) => {
        for await (const _event of source) count++;
      });
      process.stdout.write(`${count}\n`);
      return;
    }
    case 'gunzip-cat':
      await pipeline(createReadStream(args[0]), createGunzip(), process.stdout);
      return;
    case 'axios-loop': {
      const { default: axios } = await import('axios');
      const [url, key, pages] = args;
      const out: string[] = [];
      for (let page = 1; page <= Number(pages); page++) {
        const { data } = await axios.get(url, { params: { page }, headers: { 'x-api-key': key } });
        for (const lead of data.leads) out.push(`{"type":"RECORD","record":{"stream":"leads","data":${JSON.stringify(lead)},"emitted_at":${Date.now()}}}\n`);
        if (!process.stdout.write(out.join(''))) await new Promise((resolve) => process.stdout.once('drain', resolve));
        out.length = 0;
      }
      return;
    }
    case 'writer': {
      const { OutputWriter } = await import('../../src/protocol/output');
      const writer = new OutputWriter(process.stdout);
      const data = {
        id: 'l_000000',
        status: 'contacted',
        data: { email: 'someone@example.org', first_name: 'First', last_name: 'Last', company_name: 'Company 7' },
        owner_id: 'u_0001',
        sent_count: 3,
        updated_at: '2024-03-01T00:00:00.000Z',
      };
      for (let i = 0; i < Number(args[0]); i++) {
        const pending = writer.record('leads', data);
        if (pending) await pending;
      }
      await writer.flush();
      return;
    }
    default:
      throw new Error(`unknown baseline ${mode}`);
  }
}

main(process.argv[2], process.argv.slice(3)).catch((error: Error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
