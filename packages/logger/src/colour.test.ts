import { describe, expect, it } from 'vitest';
import { shouldColorize } from './index';

describe('shouldColorize', () => {
  it('colours a terminal only, unless NO_COLOR or FORCE_COLOR says otherwise', () => {
    expect(shouldColorize({ isTTY: true }, {})).toBe(true);
    expect(shouldColorize({}, {})).toBe(false);
    expect(shouldColorize({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColorize({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(shouldColorize({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColorize({ isTTY: true }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
  });
});
