import { describe, expect, it } from 'vitest';
import { parseEnv, SourceEnv } from './index.ts';

describe('SourceEnv', () => {
  it('defaults to the built-in source and accepts flipfix', () => {
    expect(parseEnv(SourceEnv, {})).toEqual({ SOURCE: 'builtin' });
    expect(parseEnv(SourceEnv, { SOURCE: 'flipfix', FLIPFIX_MEDIA_URL: 'https://cdn.example.org/media/' })).toEqual({
      SOURCE: 'flipfix',
      FLIPFIX_MEDIA_URL: 'https://cdn.example.org/media/',
    });
  });

  it('names the bad variable', () => {
    expect(() => parseEnv(SourceEnv, { SOURCE: 'django' })).toThrow(/SOURCE: /);
    expect(() => parseEnv(SourceEnv, { FLIPFIX_MEDIA_URL: 'media' })).toThrow(/FLIPFIX_MEDIA_URL: must be a path starting with \/ or an http\(s\) URL/);
  });
});
