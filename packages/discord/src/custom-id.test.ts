import { describe, expect, it } from 'vitest';
import { type CustomIdAction, encodeCustomId, parseCustomId } from './custom-id';

describe('custom ids', () => {
  it('round-trips every allowed action', () => {
    const all: CustomIdAction[] = [
      { action: 'claim', entity: 'problem_report', id: 12 },
      { action: 'close', entity: 'problem_report', id: 1 },
      { action: 'ordered', entity: 'part_request', id: 3 },
      { action: 'received', entity: 'part_request', id: 2_147_483_647 },
    ];
    for (const a of all) {
      const s = encodeCustomId(a);
      expect(s.length).toBeLessThanOrEqual(100);
      expect(parseCustomId(s)).toEqual(a);
    }
    expect(encodeCustomId({ action: 'claim', entity: 'problem_report', id: 12 })).toBe('claim:problem_report:12');
  });

  it('rejects junk, unknown pairs and bad ids', () => {
    for (const junk of [
      '',
      'claim',
      'claim:problem_report',
      'claim:problem_report:',
      'claim:problem_report:0',
      'claim:problem_report:012',
      'claim:problem_report:-1',
      'claim:problem_report:1.5',
      'claim:problem_report:99999999999999999',
      // Beyond a Postgres integer: names no record (the database would refuse the query).
      'claim:problem_report:2147483648',
      'close:problem_report:9007199254740991',
      'claim:part_request:1',
      'ordered:problem_report:1',
      'delete:problem_report:1',
      'claim:log_entry:1',
      'claim:problem_report:1:extra',
      'CLAIM:problem_report:1',
      'claim:__proto__:1',
      'claim:constructor:1',
      ' claim:problem_report:1',
      'claim:problem_report:1\n',
      'x'.repeat(200),
    ]) {
      expect(parseCustomId(junk), junk).toBeNull();
    }
    expect(parseCustomId(42)).toBeNull();
    expect(parseCustomId(null)).toBeNull();
  });

  it('refuses to encode an invalid id or pair', () => {
    expect(() => encodeCustomId({ action: 'claim', entity: 'problem_report', id: 0 })).toThrow(RangeError);
    expect(() => encodeCustomId({ action: 'claim', entity: 'problem_report', id: 1.5 })).toThrow(RangeError);
    expect(() => encodeCustomId({ action: 'claim', entity: 'problem_report', id: 2_147_483_648 })).toThrow(RangeError);
    expect(() => encodeCustomId({ action: 'ordered', entity: 'problem_report', id: 1 } as unknown as CustomIdAction)).toThrow(RangeError);
  });
});
