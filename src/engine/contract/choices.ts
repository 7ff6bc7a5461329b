/**
 * A choice's values with a one-line description each. A zod enum is built
 * from the keys (in this order); the CLI's help, the extension's quick picks
 * and its package.json settings (enum + enumDescriptions) derive from these.
 */
import { z } from 'zod';

export type Described<T extends string> = Readonly<Record<T, string>>;

/** The values of a described choice, in order (a non-empty tuple, as z.enum wants). */
export const keysOf = <T extends string>(d: Described<T>) => Object.keys(d) as [T, ...T[]];

/** The zod enum of a described choice. */
export const enumOf = <T extends string>(d: Described<T>) => z.enum(keysOf(d));

/** Values of an enum with their descriptions, in enum order (for quick picks and settings). */
export function describedChoices<T extends string>(descriptions: Described<T>): Array<{ value: T; description: string }> {
  return keysOf(descriptions).map((value) => ({ value, description: descriptions[value] }));
}
