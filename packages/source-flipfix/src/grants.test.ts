import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { flipfixGrantsSql } from './grants.ts';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md');
const flat = (sql: string) => sql.replace(/\s+/g, ' ').trim();

it("the README's GRANTs are exactly the ones the source is tested with", () => {
  const readme = readFileSync(README, 'utf8');
  const block = /CREATE ROLE flipfix_notify[^\n]*\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  expect(flat(block!)).toBe(flat(flipfixGrantsSql('flipfix_notify', 'flipfix')));
});
