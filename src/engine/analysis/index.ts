/** Pure analysis over trace slices: attention aggregation/rollout/filtering, token text, surprisal. */
export * from './attention';
export * from './tokens';
export * from './predictions';
export * from './positional';
