/** Problems reported at most, per kind of check: a log broken in more places than this is broken enough. */
export const DEFAULT_LIMIT = 1000;
