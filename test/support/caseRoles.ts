/**
 * Tests name the reference cases they need ('short_english', 'greedy_prompt', …), but a reference set may be swapped
 * for another (the fixtures README mentions a hidden set with other case names). pickCase returns the named case,
 * or else the first case of the same role, so the tests check the same behaviour on whichever set is there.
 */
export interface CaseLike {
  name: string;
  text: string;
  input_ids: number[];
  generate_greedy?: unknown;
  mask_positions?: number[];
}

const byLength = <T extends CaseLike>(cs: T[]) => [...cs].sort((a, b) => a.input_ids.length - b.input_ids.length);

const ROLES: Record<string, (cases: CaseLike[]) => CaseLike | undefined> = {
  greedy_prompt: (cs) => cs.find((c) => c.generate_greedy),
  long: (cs) => byLength(cs).at(-1),
  unicode_emoji: (cs) => cs.find((c) => /[\uD800-\uDBFF]/.test(c.text)),
  mask_short: (cs) => byLength(cs.filter((c) => c.mask_positions?.length))[0],
  // Plain prose (letters, single spaces, sentence punctuation), not the greedy prompt or a mask case.
  short_english: (cs) => byLength(cs.filter((c) => /^[A-Za-z]+([ ,.:;'!?-]+[A-Za-z]+)+[.!?]?$/.test(c.text) && !c.generate_greedy && !c.mask_positions?.length))[0],
};

export function pickCase<T extends CaseLike>(cases: T[], name: string): T {
  const c = cases.find((x) => x.name === name) ?? (ROLES[name]?.(cases) as T | undefined);
  if (!c) throw new Error(`no case "${name}" (nor one of its role) among ${cases.map((x) => x.name).join(', ')}`);
  return c;
}
