// Builds the Docker image and runs it the way the Airbyte platform does: `sh -c "$AIRBYTE_ENTRYPOINT …"`
// as uid 1000, with files mounted at /config and /source. Needs a Docker engine and the local
// node:24-bookworm-slim (../shared/docker/local-base-image.sh node:24-bookworm-slim); skipped without
// them, failed under CI. The image's Node runs the same read as the host's.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test, type TestContext } from 'node:test';
import { assertNoSecrets, catalogFor, recordsOf, statusesOf, writeTemp } from '../helpers/connector';
import { assertProtocolLine, inCI, repoRoot } from '../helpers/shared';
import { PersistIqMock } from '../mocks/persistiq';

const TAG = 'saas-trio/source-saas-trio:image-test';
/** The FROM of the Dockerfile: a supported Node LTS. */
const BASE = 'node:24-bookworm-slim';

const OCI = {
  'org.opencontainers.image.description': 'Airbyte source connector for Fullstory, Mindstamp and PersistIQ',
  'org.opencontainers.image.version': '0.1.0',
  'org.opencontainers.image.licenses': 'MIT',
  'org.opencontainers.image.source': 'https://github.com/source-saas-trio/source-saas-trio',
  'org.opencontainers.image.documentation': 'https://github.com/source-saas-trio/source-saas-trio/tree/main/docs',
  'org.opencontainers.image.vendor': 'source-saas-trio',
};

const labelsOf = (image: string): Record<string, string> => JSON.parse(execFileSync('docker', ['image', 'inspect', image], { encoding: 'utf8' }))[0].Config.Labels;

function dockerReady(): string | undefined {
  const info = spawnSync('docker', ['info'], { stdio: 'ignore' });
  if (info.error || info.status !== 0) return 'no Docker engine answers `docker info`';
  const base = spawnSync('docker', ['image', 'inspect', BASE], { stdio: 'ignore' });
  if (base.status !== 0) return `base image ${BASE} missing (run ../shared/docker/local-base-image.sh ${BASE})`;
  return undefined;
}

const unavailable = dockerReady();

function skipUnlessDocker(t: TestContext): boolean {
  if (!unavailable) return true;
  if (inCI) throw new Error(`${unavailable}; CI requires Docker`);
  t.skip(unavailable);
  return false;
}

/** Runs the image as the platform does and returns the parsed stdout messages. */
async function platformRun(image: string, script: string, mounts: Record<string, string>, workdir: string) {
  const args = ['run', '--rm', '--network', 'host', '--user', '1000:1000', '-w', workdir, '--entrypoint', 'sh'];
  for (const [target, source] of Object.entries(mounts)) args.push('-v', `${source}:${target}:ro`);
  // Asynchronous: the mock API answers from this same process.
  const child = spawn('docker', [...args, image, '-c', script]);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const messages = stdout.split('\n').filter(Boolean).map(assertProtocolLine);
  return { code, messages, stdout, stderr };
}

describe('Docker image', () => {
  let mock: PersistIqMock;
  before(async () => {
    if (unavailable) return;
    mock = await new PersistIqMock({ rateLimit: false }).start();
    execFileSync('docker', ['build', '--network', 'host', '-t', TAG, '.'], { cwd: repoRoot, stdio: 'ignore' });
  });
  after(() => mock?.close());

  test('labels, entrypoint, env and user are what the platform and CAT expect', (t) => {
    if (!skipUnlessDocker(t)) return;
    const [config] = JSON.parse(execFileSync('docker', ['image', 'inspect', TAG], { encoding: 'utf8' })).map((i: { Config: unknown }) => i.Config);
    const env = Object.fromEntries((config.Env as string[]).map((e) => e.split(/=(.*)/s).slice(0, 2)));
    assert.equal(env.AIRBYTE_ENTRYPOINT, (config.Entrypoint as string[]).join(' '));
    assert.equal(env.AIRBYTE_ENTRYPOINT, 'node /airbyte/dist/main.js');
    assert.equal(config.User, '1000:1000');
    assert.deepEqual(config.Labels, {
      'io.airbyte.name': 'saas-trio/source-saas-trio',
      'io.airbyte.version': '0.1.0',
      'org.opencontainers.image.title': 'source-saas-trio',
      ...OCI,
    });
  });

  test("holds only what runs, on Node 24; the code is root's and read-only for the runtime user", (t) => {
    if (!skipUnlessDocker(t)) return;
    const inImage = (script: string) => execFileSync('docker', ['run', '--rm', '--user', '1000:1000', '--entrypoint', 'sh', TAG, '-c', script], { encoding: 'utf8' }).trim();
    assert.match(inImage('node --version'), /^v24\./);
    assert.equal(inImage("find /airbyte -name '*.map' -o -name '*.ts' -o -name '*.md' -o -type d -name test -o -type d -name tests | head -5"), '');
    assert.deepEqual(inImage('ls /airbyte').split('\n'), ['dist', 'node_modules', 'package.json']);
    assert.equal(inImage('stat -c %U /airbyte/dist/main.js /airbyte/node_modules/axios/package.json /airbyte/package.json | sort -u'), 'root');
    assert.equal(inImage('for f in /airbyte/dist/main.js /airbyte/dist /airbyte/node_modules; do test -w $f && echo "$f writable"; done; echo done'), 'done');
    assert.equal(inImage('touch /airbyte/config.json && echo ok'), 'ok');
    // The exports' WebAssembly fast path ships and runs on the image's Node.
    const shaped = inImage(
      `node -e "const { ObjectStreamShaper } = require('/airbyte/dist/json/object-shaper.js'); const shaper = new ObjectStreamShaper('ndjson', new Set(['a']), 'custom_vars'); console.log(shaper.push(Buffer.from('{\\"a\\":1,\\"b\\":2}\\n')).texts()[0])"`,
    );
    assert.equal(shaped, '{"a":1,"custom_vars":{"b":2}}');
  });

  test("ships V8's code cache for the runtime user: the connector and axios are not compiled again at each run", (t) => {
    if (!skipUnlessDocker(t)) return;
    const accepted = (script: string) =>
      execFileSync(
        'docker',
        [
          'run',
          '--rm',
          '--user',
          '1000:1000',
          '-e',
          'NODE_DEBUG_NATIVE=COMPILE_CACHE',
          '--entrypoint',
          'sh',
          TAG,
          '-c',
          `${script} 2>&1 >/dev/null | grep 'was accepted' | sed 's/.*CommonJS //; s/ was accepted.*//'`,
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n');
    assert.ok(accepted('node /airbyte/dist/main.js spec').includes('/airbyte/dist/cli/commands.js'));
    assert.ok(accepted(`node -e "require('/airbyte/dist/http/client')"`).includes('/airbyte/node_modules/axios/dist/node/axios.cjs'));
    // Without the debug switch the cache says nothing: stdout carries protocol messages only.
    const out = execFileSync('docker', ['run', '--rm', TAG, 'spec'], { encoding: 'utf8' });
    assert.equal(out.trim().split('\n').length, 1);
  });

  test('spec through plain docker run', (t) => {
    if (!skipUnlessDocker(t)) return;
    const out = execFileSync('docker', ['run', '--rm', '--network', 'host', TAG, 'spec'], { encoding: 'utf8' });
    const spec = assertProtocolLine(out.trim()) as { spec: unknown };
    const cliSpec = JSON.parse(execFileSync(process.execPath, ['dist/main.js', 'spec'], { cwd: repoRoot, encoding: 'utf8' }));
    assert.deepEqual(spec.spec, cliSpec.spec);
  });

  test('check and read through sh -c "$AIRBYTE_ENTRYPOINT …" with the platform file paths', async (t) => {
    if (!skipUnlessDocker(t)) return;
    const config = { api: { name: 'persistiq', api_key: mock.apiKey, base_url: mock.baseUrl, requests_per_minute: 6000 } };
    const configFile = writeTemp('config.json', config);
    const check = await platformRun(
      TAG,
      '$AIRBYTE_ENTRYPOINT check --config /config/connectionConfiguration.json',
      { '/config/connectionConfiguration.json': configFile },
      '/config',
    );
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(check.messages.at(-1), { type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } });

    const catalog = catalogFor({ users: 'full_refresh', leads: 'incremental', tags: 'full_refresh' });
    const state = [{ type: 'STREAM', stream: { stream_descriptor: { name: 'leads' }, stream_state: { updated_at: String(mock.data.leads[199].updated_at) } } }];
    const read = await platformRun(
      TAG,
      '$AIRBYTE_ENTRYPOINT read --config /source/connectorConfig.json --catalog /source/catalog.json --state /source/inputState.json',
      { '/source/connectorConfig.json': configFile, '/source/catalog.json': writeTemp('catalog.json', catalog), '/source/inputState.json': writeTemp('state.json', state) },
      '/source',
    );
    assert.equal(read.code, 0, read.stderr);
    assertNoSecrets(read.stdout + read.stderr + check.stdout + check.stderr, [mock.apiKey]);
    assert.deepEqual(recordsOf(read.messages, 'users'), mock.data.users);
    assert.deepEqual(recordsOf(read.messages, 'tags'), mock.data.tags);
    // From the lead at the state's instant on: the bound is inclusive.
    assert.deepEqual(recordsOf(read.messages, 'leads'), mock.data.leads.slice(199));
    for (const stream of ['users', 'leads', 'tags']) assert.deepEqual(statusesOf(read.messages, stream), ['STARTED', 'RUNNING', 'COMPLETE']);
  });

  test('AIRBYTE_SOURCE_API build argument narrows the image to one API', (t) => {
    if (!skipUnlessDocker(t)) return;
    execFileSync('docker', ['build', '--network', 'host', '--build-arg', 'AIRBYTE_SOURCE_API=persistiq', '-t', `${TAG}-persistiq`, '.'], { cwd: repoRoot, stdio: 'ignore' });
    const out = execFileSync('docker', ['run', '--rm', `${TAG}-persistiq`, 'spec'], { encoding: 'utf8' });
    const spec = JSON.parse(out).spec;
    const options = spec.connectionSpecification.properties.api.oneOf as { properties: { name: { const: string } } }[];
    assert.deepEqual(
      options.map((o) => o.properties.name.const),
      ['persistiq'],
    );
    // A connector of its own: name, title and documentation all PersistIQ's.
    assert.equal(spec.connectionSpecification.title, 'PersistIQ source');
    assert.equal(spec.documentationUrl, 'https://github.com/source-saas-trio/source-saas-trio/blob/main/docs/persistiq.md');
    assert.deepEqual(labelsOf(`${TAG}-persistiq`), {
      'io.airbyte.name': 'saas-trio/source-persistiq',
      'io.airbyte.version': '0.1.0',
      'org.opencontainers.image.title': 'source-persistiq',
      ...OCI,
    });
  });
});
