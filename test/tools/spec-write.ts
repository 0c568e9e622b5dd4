// `npm run spec:write`: writes spec/spec.json from what the built connector's `spec` prints, and the
// config validators generated from it.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/shared';
import { GENERATED_VALIDATORS, validatorsSource } from './config-validators';

const printed = JSON.parse(execFileSync(process.execPath, [join(repoRoot, 'dist', 'main.js'), 'spec'], { encoding: 'utf8' })) as { spec: Parameters<typeof validatorsSource>[0] };
writeFileSync(join(repoRoot, 'spec', 'spec.json'), `${JSON.stringify(printed.spec, null, 2)}\n`);
writeFileSync(join(repoRoot, GENERATED_VALIDATORS), validatorsSource(printed.spec));
console.log(`wrote spec/spec.json and ${GENERATED_VALIDATORS}`);
