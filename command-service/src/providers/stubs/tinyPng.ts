/** An 8×8 PNG, the output file the provider stubs serve. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEUlEQVQImWM4EaWBFTEMLQkAZKhSgVN4DeMAAAAASUVORK5CYII=',
  'base64',
);
