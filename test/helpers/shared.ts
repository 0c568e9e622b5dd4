// Access to ../shared (Airbyte's official protocol and metadata schemas). Tests that need it skip
// themselves, with the reason, where it is absent; under CI=true its absence is a failure.
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { parse as parseYaml } from 'yaml';

/** The repository root (tests run from build/test/...). */
export const repoRoot = resolve(__dirname, '..', '..', '..');
export const sharedDir = process.env.SHARED_DIR ?? resolve(repoRoot, '..', 'shared');
export const hasShared = existsSync(join(sharedDir, 'airbyte', 'airbyte_protocol.yaml'));
export const inCI = process.env.CI === 'true';

/** Skips the test when ../shared is absent, or fails it under CI. Returns false when skipped. */
export function requireShared(t: TestContext): boolean {
  if (hasShared) return true;
  const reason = `../shared (Airbyte protocol and metadata schemas) not found at ${sharedDir}`;
  if (inCI) throw new Error(`${reason}; CI requires it`);
  t.skip(reason);
  return false;
}

let protocolAjv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/** A validator for one definition of airbyte_protocol.yaml (e.g. "AirbyteMessage"). */
export function protocolValidator(definition: string): ValidateFunction | undefined {
  if (!hasShared) return undefined;
  let validate = validators.get(definition);
  if (!validate) {
    if (!protocolAjv) {
      const schema = parseYaml(readFileSync(join(sharedDir, 'airbyte', 'airbyte_protocol.yaml'), 'utf8')) as Record<string, unknown>;
      protocolAjv = new Ajv({ strict: false, allErrors: true });
      addFormats(protocolAjv);
      protocolAjv.addSchema(schema, 'protocol');
    }
    validate = protocolAjv.compile({ $ref: `protocol#/definitions/${definition}` });
    validators.set(definition, validate);
  }
  return validate;
}

/** The payload key each message type must carry. */
const PAYLOAD: Record<string, string> = {
  RECORD: 'record',
  STATE: 'state',
  LOG: 'log',
  SPEC: 'spec',
  CONNECTION_STATUS: 'connectionStatus',
  CATALOG: 'catalog',
  TRACE: 'trace',
};

/** Throws unless the line is one AirbyteMessage valid against the protocol schema (when available). */
export function assertProtocolLine(line: string): Record<string, unknown> {
  const message = JSON.parse(line) as Record<string, unknown>;
  const payload = PAYLOAD[String(message.type)];
  if (!payload || message[payload] === undefined) throw new Error(`not an Airbyte message: ${line.slice(0, 200)}`);
  const validate = protocolValidator('AirbyteMessage');
  if (validate && !validate(message)) {
    throw new Error(`invalid Airbyte message: ${JSON.stringify(validate.errors)} in ${line.slice(0, 300)}`);
  }
  return message;
}
