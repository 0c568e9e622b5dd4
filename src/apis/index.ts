import type { AnyApiDefinition } from '../connector';
import { fullstory } from './fullstory';
import { mindstamp } from './mindstamp';
import { persistiq } from './persistiq';

/** Every API this connector reads, in the order the spec offers them. */
export const registry: AnyApiDefinition[] = [fullstory, mindstamp, persistiq];
