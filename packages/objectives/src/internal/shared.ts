/**
 * One instance per process under `key`, shared by every copy of this package that a process loads
 * (a plugin may import its own installed copy of @apo-rl/objectives): the registries must be the
 * same objects for a plugin's registrations to reach the trainer.
 */
export const sharedInstance = <A>(key: string, make: () => A): A => {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  const symbol = Symbol.for(`@apo-rl/objectives/${key}`);
  if (!(symbol in holder)) holder[symbol] = make();
  return holder[symbol] as A;
};
