// Airbyte's acceptance tests (CAT) offline, against the bundled mocks.
//   npm run cat:mocks      starts the three mocks on 127.0.0.1 and writes secrets/<api>_config.json and
//                          secrets/<api>_invalid_config.json (a wrong key) pointing at them; runs until
//                          interrupted (CAT runs the image with --network host)
//   npm run cat:expected   rewrites integration_tests/<api>_expected_records.jsonl from the mocks' datasets
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runConnector } from '../helpers/connector';
import { CAT_APIS, catConfig, catInvalidConfig, expectedRecordLines, readRepoJson } from '../helpers/cat';
import { repoRoot } from '../helpers/shared';

async function serve(): Promise<void> {
  mkdirSync(join(repoRoot, 'secrets'), { recursive: true });
  const mocks = await Promise.all(CAT_APIS.map((api) => api.mock()));
  CAT_APIS.forEach((api, i) => {
    const path = join('secrets', `${api.name}_config.json`);
    writeFileSync(join(repoRoot, path), `${JSON.stringify(catConfig(api, mocks[i]), null, 2)}\n`);
    const invalid = join('secrets', `${api.name}_invalid_config.json`);
    writeFileSync(join(repoRoot, invalid), `${JSON.stringify(catInvalidConfig(api, mocks[i]), null, 2)}\n`);
    console.log(`${api.name}: mock on ${mocks[i].url}; wrote ${path} and ${invalid} (a wrong key the mock refuses)`);
  });
  console.log('Serving until interrupted (Ctrl-C).');
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  await Promise.all(mocks.map((mock) => mock.close()));
}

async function writeExpected(): Promise<void> {
  for (const api of CAT_APIS) {
    const mock = await api.mock();
    try {
      const read = await runConnector('read', { config: catConfig(api, mock), catalog: readRepoJson(`integration_tests/${api.name}_configured_catalog.json`) });
      if (read.code !== 0) throw new Error(`${api.name}: read exited ${read.code}: ${read.stdout.slice(-500)}`);
      const lines = expectedRecordLines(read.stdout, api);
      const path = join('integration_tests', `${api.name}_expected_records.jsonl`);
      writeFileSync(join(repoRoot, path), `${lines.join('\n')}\n`);
      console.log(`wrote ${lines.length} records to ${path}`);
    } finally {
      await mock.close();
    }
  }
}

const commands: Record<string, () => Promise<void>> = { serve, expected: writeExpected };
const command = commands[process.argv[2]];
if (!command) throw new Error(`usage: cat-mocks serve|expected (got ${process.argv[2]})`);
command().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
