import { describe, expect, it } from 'vitest';
import { z } from '@flipfix/config';
import { AppError, NotFoundError } from '@flipfix/db';
import { CreateLogEntryBody, CreateProblemReportBody } from '../http/schemas';
import { fieldErrors, plainMessage, typedValues } from './forms';

describe('plainMessage', () => {
  it.each([
    ['is required', 'Please fill this in.'],
    ['must not be empty', 'Please fill this in.'],
    ['must be at most 200 characters', 'Must be at most 200 characters.'],
    ['must be a Discord snowflake (17-20 digits)', 'Must be a Discord id: 17 to 20 digits.'],
    ['Problem report 9999 not found', 'There is no problem report #9999.'],
    ['must be one of: stuck_ball, no_credits, other', 'Pick one of: stuck ball, no credits, other.'],
    ['Too small: expected number to be >=10', 'Must be at least 10.'],
    ['at most 3 reactions', 'At most 3 reactions.'],
  ])('%s → %s', (message, plain) => {
    expect(plainMessage(message)).toBe(plain);
  });
});

describe('fieldErrors', () => {
  it('puts a list item on its form field as a numbered line, never an internal path', () => {
    const result = CreateProblemReportBody.safeParse({ machineId: 1, description: '', photoUrls: ['https://example.com/a.jpg', 'nope'] });
    expect(result.success).toBe(false);
    const errors = fieldErrors(result.error);
    expect(errors).toEqual({
      description: 'Please fill this in.',
      photoUrls: 'Line 2 is not a web address: it must start with http:// or https:// and hold no password.',
    });
    expect(JSON.stringify(errors)).not.toContain('photoUrls.1');
  });

  it('names an empty line of a list', () => {
    const result = CreateLogEntryBody.safeParse({ machineId: 1, text: 'x', maintainerNames: ['Ada', ' '] });
    expect(fieldErrors(result.error)).toEqual({ maintainerNames: 'Line 2 is empty.' });
  });

  it('maps a domain error with a field to that field, and leaves other errors to the caller', () => {
    expect(fieldErrors(new NotFoundError('Problem report', 9999, { field: 'problemReportId' }))).toEqual({
      problemReportId: 'There is no problem report #9999.',
    });
    expect(fieldErrors(new AppError('invalid', 'Problem report 3 is about another machine', { field: 'problemReportId' }))).toEqual({
      problemReportId: 'Problem report 3 is about another machine.',
    });
    expect(fieldErrors(new NotFoundError('Part request', 5))).toBeNull();
    expect(fieldErrors(new Error('database down'))).toBeNull();
    expect(fieldErrors(new z.ZodError([]))).toEqual({});
  });
});

describe('typedValues', () => {
  it('keeps strings as typed, joins repeated fields and drops the CSRF token', () => {
    expect(typedValues({ _csrf: 'secret', text: '  spaced  ', events: ['a', 'b'], n: 3 })).toEqual({ text: '  spaced  ', events: 'a\nb' });
  });
});
