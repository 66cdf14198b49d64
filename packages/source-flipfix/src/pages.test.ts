import { expect, it } from 'vitest';
import { flipfixRecordPath, mediaUrl } from './pages.ts';

it("makes a stored file's URL absolute as Django's storage and Flipfix's formatter do", () => {
  expect(mediaUrl('https://flipfix.example.org/', '/media/', 'log_entries/7/ab c#1.jpg')).toBe('https://flipfix.example.org/media/log_entries/7/ab%20c%231.jpg');
  expect(mediaUrl('https://flipfix.example.org', 'https://cdn.example.org/m', 'x/y.jpg')).toBe('https://cdn.example.org/m/x/y.jpg');
  expect(mediaUrl('https://flipfix.example.org', '/media/', 'https://elsewhere.example/z.jpg')).toBe('https://elsewhere.example/z.jpg');
});

it("uses Flipfix's urls.py paths", () => {
  expect(['problem_report', 'log_entry', 'part_request', 'part_request_update'].map((t) => flipfixRecordPath(t as never, 3))).toEqual([
    '/problem-reports/3/',
    '/logs/3/',
    '/parts/3/',
    '/parts/updates/3/',
  ]);
});
