// The docs a new user reads must say what the connector does: the config tables' defaults and ranges
// are the spec's, and the README's commands run as written from a fresh clone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runConnector } from '../helpers/connector';
import { repoRoot } from '../helpers/shared';

type Field = { default?: unknown; minimum?: number; maximum?: number; const?: string };
const readRepo = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

async function specFields(): Promise<Map<string, Record<string, Field>>> {
  const spec = (await runConnector('spec')).messages[0].spec.connectionSpecification;
  const options = spec.properties.api.oneOf as { properties: Record<string, Field> }[];
  return new Map(options.map((option) => [option.properties.name.const as string, option.properties]));
}

/** The rows of the first table whose header starts with `| field | required | default`: field → [default, meaning]. */
function configTable(markdown: string): Map<string, [string, string]> {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^\| field \| required \| default/.test(line));
  assert.ok(start >= 0, 'a config table');
  const rows = new Map<string, [string, string]>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [field, , defaultCell, meaning] = line.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/ \|$/, ''));
    rows.set(
      field
        .replace(/`/g, '')
        .replace(/ \(top level\)$/, '')
        .replace(/^api\./, ''),
      [defaultCell.replace(/`/g, ''), meaning],
    );
  }
  return rows;
}

/** A documented default as the spec would hold it; undefined for "none", "–", "empty", "all history". */
function documentedDefault(cell: string): unknown {
  if (/^(none|–|empty|all history)$/.test(cell)) return undefined;
  return /^-?\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell;
}

describe('the config tables in the docs are the spec', () => {
  for (const api of ['fullstory', 'mindstamp', 'persistiq']) {
    test(`docs/${api}.md lists every field with the spec's default and range`, async () => {
      const fields = (await specFields()).get(api)!;
      const rows = configTable(readRepo(`docs/${api}.md`));
      const version = JSON.parse(readRepo('package.json')).version as string;
      assert.deepEqual([...rows.keys()].sort(), [...Object.keys(fields), 'user_agent'].sort());
      for (const [name, field] of Object.entries(fields)) {
        const [cell, meaning] = rows.get(name)!;
        assert.deepEqual(documentedDefault(cell), name === 'name' ? field.const : field.default, `${api}.${name}: the docs say ${cell}`);
        const range = /\((-?\d+)–(\d+)\)/.exec(meaning);
        if (range) assert.deepEqual([Number(range[1]), Number(range[2])], [field.minimum, field.maximum], `${api}.${name}'s range`);
      }
      assert.equal(rows.get('user_agent')![0], `source-saas-trio/${version}`);
    });
  }

  test("the README's table gives each API's defaults, a dash where the API has no such field", async () => {
    const fields = await specFields();
    const lines = readRepo('README.md').split('\n');
    const header = lines.findIndex((line) => line.startsWith('| field | required | PersistIQ | Mindstamp | Fullstory |'));
    assert.ok(header >= 0, "the README's config table");
    const apis = ['persistiq', 'mindstamp', 'fullstory'];
    let rows = 0;
    for (const line of lines.slice(header + 2)) {
      if (!line.startsWith('|')) break;
      const cells = line.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/`/g, ''));
      const name = cells[0].replace(/^api\./, '');
      if (name === 'user_agent') continue;
      rows++;
      apis.forEach((api, i) => {
        const cell = cells[2 + i] === 'same' ? cells[1 + i] : cells[2 + i];
        const field = fields.get(api)![name];
        const where = `README ${name} (${api}): ${cell}`;
        if (cell === '–') assert.ok(!field || field.default === undefined, where);
        else if (cell === 'see its page') assert.ok(field, where);
        else assert.deepEqual(documentedDefault(cell), name === 'name' ? field.const : field.default, where);
      });
    }
    assert.ok(rows >= 14, `${rows} rows`);
  });
});

describe("moving from Airbyte's own connectors", () => {
  for (const api of ['fullstory', 'persistiq']) {
    test(`docs/${api}.md maps Airbyte's streams to streams this connector discovers, and its changelog names commits`, async () => {
      const page = readRepo(`docs/${api}.md`);
      const section = /## Moving from Airbyte's connector\n([^]*?)\n## /.exec(page)?.[1];
      assert.ok(section, 'a migration section');
      const discovered = (await runConnector('discover', { config: { api: { name: api, api_key: 'docs-test-key-5150' } } })).messages[0].catalog.streams.map(
        (s: { name: string }) => s.name,
      );
      const mapped = section
        .split('\n')
        .filter((line) => line.startsWith('| ') && !line.startsWith('| Airbyte') && !line.startsWith('| ---'))
        .flatMap((line) => [...line.split(' | ')[1].matchAll(/`([a-z_*]+)`/g)].map((m) => m[1]))
        .filter((name) => !name.includes('*'));
      assert.ok(mapped.length >= 5, mapped.join());
      for (const name of mapped) assert.ok(discovered.includes(name), `${name} is not a ${api} stream`);
      assert.match(page, /## Changelog\n\n\| version \| date \| commit \| subject \|/);
    });
  }
});

describe('the README reads as a user page', () => {
  test('no line longer than 300 characters (a table row that long is a paragraph: it belongs on the API page)', () => {
    const long = readRepo('README.md')
      .split('\n')
      .map((line, i) => [i + 1, line.length])
      .filter(([, length]) => length > 300);
    assert.deepEqual(long, []);
  });
});

describe("the README's commands run as written from a fresh clone", () => {
  test('every host file a docker command mounts is in the clone, or made by a line before it', () => {
    const tracked = new Set(execFileSync('git', ['ls-files'], { cwd: repoRoot, encoding: 'utf8' }).split('\n'));
    const blocks = [...readRepo('README.md').matchAll(/```sh\n([^]*?)```/g)].map((match) => match[1].replace(/\\\n\s*/g, ''));
    const dockerBlocks = blocks.filter((block) => /docker run/.test(block));
    assert.ok(dockerBlocks.length > 0);
    for (const block of dockerBlocks) {
      const made = new Set<string>();
      for (const line of block.split('\n')) {
        for (const [, target] of line.matchAll(/\bcp \S+ (\S+)/g)) made.add(target);
        for (const [, source] of line.matchAll(/\bcp (\S+) /g)) assert.ok(tracked.has(source), `${source} (copied in: ${line})`);
        for (const [, host] of line.matchAll(/-v "?\$PWD\/([^:"]+):/g)) {
          assert.ok(made.has(host) || tracked.has(host), `${host} is mounted by "${line}" but a clone has no such file and no line before makes it`);
        }
      }
    }
  });
});
