import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonBatch } from '../../src/protocol/json-batch';
import { ADDITIONAL_PROPERTIES, SchemaDrift, withCatchAll } from '../../src/streams/schema-drift';

const schema = withCatchAll(
  {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: ['string', 'null'] },
      score: { type: ['number', 'null'] },
      meta: { type: ['object', 'null'], properties: { at: { type: ['string', 'null'] }, tags: { type: ['array', 'null'], items: { type: 'string' } } } },
    },
  },
  ADDITIONAL_PROPERTIES,
);

describe('SchemaDrift', () => {
  test('the catch-all field is declared once, and a schema that names its own keeps it', () => {
    assert.deepEqual((schema.properties as Record<string, { type: string[] }>)[ADDITIONAL_PROPERTIES].type, ['object', 'null']);
    const own = { type: 'object', properties: { custom_vars: { type: 'object' } } };
    assert.equal(withCatchAll(own, 'custom_vars'), own);
  });

  test('undeclared top-level keys move, unchanged, into the catch-all field; a complete record passes as it is', () => {
    const drift = new SchemaDrift(schema, ADDITIONAL_PROPERTIES);
    const complete = { id: 1, name: 'a' };
    assert.equal(drift.shape(complete), complete);
    assert.deepEqual(drift.shape({ id: 2, kind: 'x', name: null, params: { a: [1] } }), { id: 2, name: null, [ADDITIONAL_PROPERTIES]: { kind: 'x', params: { a: [1] } } });
    // A key named like the catch-all field is moved too, so nothing is overwritten.
    assert.deepEqual(drift.shape({ id: 3, [ADDITIONAL_PROPERTIES]: 7 }), { id: 3, [ADDITIONAL_PROPERTIES]: { [ADDITIONAL_PROPERTIES]: 7 } });
  });

  test('one report per stream: undeclared keys with counts, and values of another type by path (INFO, or WARN when a type differs)', () => {
    const drift = new SchemaDrift(schema, ADDITIONAL_PROPERTIES);
    assert.equal(drift.report('s'), undefined);
    drift.shape({ id: 1, kind: 'a' });
    assert.deepEqual(drift.report('s'), {
      level: 'INFO',
      message: `Stream "s": the data held what its schema does not describe; top-level keys the schema does not declare, kept in ${ADDITIONAL_PROPERTIES}: kind ×1`,
    });
    drift.shape({ id: 1.5, kind: 'b', score: 3, meta: { at: 5, tags: ['x', 2, 3] } });
    drift.shape({ id: '7', name: true, meta: null });
    assert.deepEqual(drift.report('s'), {
      level: 'WARN',
      message:
        `Stream "s": the data held what its schema does not describe; top-level keys the schema does not declare, kept in ${ADDITIONAL_PROPERTIES}: kind ×2; ` +
        'values of a type the schema does not declare (field: declared → seen): meta.tags[]: string → integer ×2, id: integer → number ×1, meta.at: string|null → integer ×1, id: integer → string ×1, name: string|null → boolean ×1',
    });
  });

  test('strings not in their declared format (RFC 3339 date-time, full date) are counted with an example; other formats, even one named like an Object member, are not checked', () => {
    const timed = {
      type: 'object',
      properties: {
        at: { type: ['string', 'null'], format: 'date-time' },
        day: { type: 'string', format: 'date' },
        odd: { type: 'string', format: 'constructor' },
        mail: { type: 'string', format: 'email' },
      },
    };
    const drift = new SchemaDrift(timed, ADDITIONAL_PROPERTIES);
    for (const at of ['2024-03-01T05:00:00Z', '2024-03-01T05:00:00.123+01:00', '2024-03-01 05:00:00Z', null]) drift.shape({ at, day: '2024-03-01', odd: 'x', mail: 'no' });
    assert.equal(drift.report('s'), undefined);
    for (const at of ['Sat, 1 Jan 2022 05:12:32 UTC +00:00', '2024-03-01T05:00:00', '2024-03-01']) drift.shape({ at, day: '03/01/2024' });
    assert.deepEqual(drift.report('s'), {
      level: 'WARN',
      message:
        'Stream "s": the data held what its schema does not describe; strings not in their declared format, which a typed destination reads as null (field: format): at: date-time ×3, day: date ×3; e.g. at "Sat, 1 Jan 2022 05:12:32 UTC +00:00", day "03/01/2024"',
    });
  });

  test('records as bytes are sampled: the first 200, then one in 1,000 (203 of 3,001)', () => {
    const drift = new SchemaDrift(schema, 'custom_vars');
    const texts = Array.from({ length: 3001 }, (_, i) => JSON.stringify({ id: i, custom_vars: { evt: i } }));
    drift.observeBatch(JsonBatch.of(texts));
    assert.deepEqual(drift.report('e'), {
      level: 'INFO',
      message:
        'Stream "e": the data held what its schema does not describe (in a sample of 203 of 3001 records); top-level keys the schema does not declare, kept in custom_vars: evt ×203',
    });
  });
});
