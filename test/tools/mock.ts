// `npm run mock`: the three bundled mock APIs on 127.0.0.1, kept running, with a ready config per API
// and the commands that use them, to try the connector by hand (node or Docker). Ctrl-C stops them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAT_APIS, catConfig } from '../helpers/cat';
import { repoRoot } from '../helpers/shared';

async function main(): Promise<void> {
  const dir = join(tmpdir(), 'source-saas-trio-mock');
  mkdirSync(dir, { recursive: true });
  const mocks = await Promise.all(CAT_APIS.map((api) => api.mock()));
  console.log(`Configs in ${dir} (rewritten at each start). From ${repoRoot}:\n`);
  CAT_APIS.forEach((api, i) => {
    const config = join(dir, `${api.name}_config.json`);
    writeFileSync(config, `${JSON.stringify(catConfig(api, mocks[i]), null, 2)}\n`);
    const catalog = `catalogs/${api.name}.json`;
    console.log(`# ${api.name}: mock on ${mocks[i].url}`);
    console.log(`node dist/main.js check --config ${config}`);
    console.log(`node dist/main.js read --config ${config} --catalog ${catalog}`);
    console.log(
      `docker run --rm --network host -v ${config}:/c.json:ro -v $PWD/${catalog}:/cat.json:ro saas-trio/source-saas-trio:0.1.0 read --config /c.json --catalog /cat.json\n`,
    );
  });
  console.log('Serving until interrupted (Ctrl-C).');
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  await Promise.all(mocks.map((mock) => mock.close()));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
