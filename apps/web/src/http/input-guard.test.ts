import { describe, expect, it } from 'vitest';
import { findBadInput, MAX_INPUT_DEPTH } from './input-guard';

describe('findBadInput', () => {
  it('names the field holding NUL, another control character or an unpaired surrogate', () => {
    expect(findBadInput({ machineId: 1, description: 'nul\u0000byte' }, 'body')).toEqual(['description', expect.stringMatching(/control characters/)]);
    expect(findBadInput({ maintainerNames: ['ok', 'bell\u0007'] }, 'body')?.[0]).toBe('maintainerNames.1');
    expect(findBadInput({ events: { log_entry_created: { channelId: '\ud800' } } }, 'body')?.[0]).toBe('events.log_entry_created.channelId');
    expect(findBadInput('\u001b[31m', 'body')?.[0]).toBe('body');
    expect(findBadInput({ ['bad\u0000key']: 1 }, 'body')).toEqual(['body', expect.stringMatching(/field name/)]);
  });

  it('lets ordinary text through: tabs, line breaks, emoji, any script', () => {
    expect(findBadInput({ text: 'line one\r\nline two\ttabbed 👍🏽 日本語 ñ', n: 3, ok: true, none: null }, 'body')).toBeNull();
    expect(findBadInput(undefined, 'body')).toBeNull();
  });

  it('refuses nesting deeper than any request the app takes', () => {
    let deep: unknown = 'x';
    for (let i = 0; i <= MAX_INPUT_DEPTH; i++) deep = [deep];
    expect(findBadInput(deep, 'body')?.[1]).toBe('is nested too deeply');
  });
});
