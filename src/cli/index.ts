// cli/: the commands. argv → spec, check, discover or read; config, catalog and state validated
// (ajv's standalone code in generated/); the spec built from the APIs' options; the read loop (the
// streams at the same time, STATE after its records) and its progress. Given the APIs by main.ts,
// it imports connector/ and everything below, never apis/.
export { runCommand } from './commands';
export { SyncProgress } from './progress';
